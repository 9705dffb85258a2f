/**
 * The request and subject attributes a compiled policy set reads, so a decision cache
 * can key on exactly those and nothing else: two requests that agree on every attribute
 * in `reads` get the same decision from the same tree.
 *
 * - `source.principal`   the workload SPIFFE ID URI (principals, notPrincipals, `source.principal`)
 * - `source.namespace`   the `ns` of that ID (namespaces, `source.namespace`)
 * - `source.ip`          the peer address (ipBlocks, remoteIpBlocks, `source.ip`, `remote.ip`)
 * - `request.auth.principal` | `.audiences` | `.presenter`  the verified end user
 * - `claim:NAME`         one top-level JWT claim (nested keys read their top-level claim)
 * - `header:NAME`        one request header, lower-case name
 * - `method`, `path`, `host`, `destination.ip`, `destination.port`, `connection.sni`
 * - `destination.service`, `destination.namespace`  as resolveDestination resolves them
 * - `context:KEY`        one context_extensions key (workload selectors)
 * - `body:["a","b"]`     one field of the JSON request body (its path as JSON), as the
 *                        conditions compare it; one mark for every way it can be unseen
 */
import { spiffeNamespace, type AccessRequest, type Subject } from '../../domain/index.js';
import { resolveDestination, type Destination } from './destination.js';
import { bodyReaderFor, type BodyReader } from './body/body-reader.js';
import { bodyValue } from './body/body-value.js';

export type RequestAttribute =
  | 'source.principal'
  | 'source.namespace'
  | 'source.ip'
  | 'request.auth.principal'
  | 'request.auth.audiences'
  | 'request.auth.presenter'
  | `claim:${string}`
  | `header:${string}`
  | 'method'
  | 'path'
  | 'host'
  | 'destination.ip'
  | 'destination.port'
  | 'connection.sni'
  | 'destination.service'
  | 'destination.namespace'
  | `context:${string}`
  | `body:${string}`;

/** The attribute of one body field: its path as JSON, so no name can be confused with another. */
export function bodyAttribute(path: readonly string[]): `body:${string}` {
  return `body:${JSON.stringify(path)}`;
}

/**
 * A cache key made of exactly the attributes in `reads`, in the set's order (the tree's
 * set is sorted). Each part is length-prefixed and an absent value is distinct from an
 * empty one, so different attribute values never produce one key. A connection's key starts
 * with `c`, which no part does: the same policies may decide a connection otherwise than an
 * HTTP request with the same attributes (a DENY's HTTP-only fields are ignored on one).
 */
export function decisionKey(reads: ReadonlySet<RequestAttribute>, subject: Subject, request: AccessRequest): string {
  return decisionKeyBuilder(reads)(subject, request);
}

/** Builds the decisionKey of one request; compiled once per attribute set. */
/** `destination`: the one the Check already resolved; absent, it is resolved here when the key needs it. */
export type DecisionKeyBuilder = (subject: Subject, request: AccessRequest, destination?: Destination) => string;

type AttributeGetter = (subject: Subject, request: AccessRequest, destination: Destination | undefined) => string | undefined;

const builders = new WeakMap<ReadonlySet<RequestAttribute>, DecisionKeyBuilder>();

/**
 * The key builder of an attribute set: one getter per attribute, chosen here, so a request
 * pays for no dispatch on attribute names. Remembered per set (a snapshot's `reads` is one
 * frozen set for its life).
 */
export function decisionKeyBuilder(reads: ReadonlySet<RequestAttribute>): DecisionKeyBuilder {
  let builder = builders.get(reads);
  if (builder === undefined) {
    builder = compileKeyBuilder(reads);
    builders.set(reads, builder);
  }
  return builder;
}

function compileKeyBuilder(reads: ReadonlySet<RequestAttribute>): DecisionKeyBuilder {
  const body = bodyPathsRead(reads);
  const reader = body.length === 0 ? undefined : bodyReaderFor(reads, () => body);
  const getters = [...reads].map((attribute) => attributeGetter(attribute, reader));
  const count = getters.length;
  const needsDestination = reads.has('destination.service') || reads.has('destination.namespace');
  return (subject, request, resolved) => {
    const destination = needsDestination ? (resolved ?? resolveDestination(request)) : undefined;
    let key = request.kind === 'connection' ? CONNECTION_KEY : '';
    for (let i = 0; i < count; i++) {
      const value = getters[i]!(subject, request, destination);
      key += value === undefined ? '~' : value.length + ':' + value;
    }
    return key;
  };
}

const CONNECTION_KEY = 'c';

function attributeGetter(attribute: RequestAttribute, body: BodyReader | undefined): AttributeGetter {
  switch (attribute) {
    case 'source.principal': return (s) => s.workload?.uri;
    case 'source.namespace': return (s) => s.workload && spiffeNamespace(s.workload);
    case 'source.ip': return (_s, r) => r.source.address;
    case 'request.auth.principal': return (s) => s.user?.principal;
    case 'request.auth.audiences': return (s) => s.user && JSON.stringify(s.user.audiences);
    case 'request.auth.presenter': return (s) => s.user?.presenter;
    case 'method': return (_s, r) => r.method;
    case 'path': return (_s, r) => r.path;
    case 'host': return (_s, r) => r.host;
    case 'destination.ip': return (_s, r) => r.destination.address;
    case 'destination.port': return (_s, r) => r.destination.port?.toString();
    case 'connection.sni': return (_s, r) => r.sni;
    case 'destination.service': return (_s, _r, d) => d?.service;
    case 'destination.namespace': return (_s, _r, d) => d?.namespace;
    default: return attribute.startsWith('body:') ? bodyGetter(attribute, body!) : prefixedGetter(attribute as PrefixedAttribute);
  }
}

/** `=` and the field's text, or its texts as a JSON list; absent (one mark) however it is unseen. */
function bodyGetter(attribute: RequestAttribute, reader: BodyReader): AttributeGetter {
  const path = reader.paths.add(bodyPathOf(attribute));
  return (_s, r) => {
    const value = bodyValue(reader.read(r), path);
    if (value === undefined) return undefined;
    return typeof value === 'string' ? '=' + value : JSON.stringify(value);
  };
}

function bodyPathsRead(reads: ReadonlySet<RequestAttribute>): (readonly string[])[] {
  return [...reads].filter((a) => a.startsWith('body:')).map(bodyPathOf);
}

function bodyPathOf(attribute: RequestAttribute): readonly string[] {
  return JSON.parse(attribute.slice('body:'.length)) as string[];
}

type PrefixedAttribute = `claim:${string}` | `header:${string}` | `context:${string}`;

function prefixedGetter(attribute: PrefixedAttribute): AttributeGetter {
  const colon = attribute.indexOf(':');
  const name = attribute.slice(colon + 1);
  switch (attribute.slice(0, colon)) {
    case 'header': return (_s, r) => r.headers.get(name);
    case 'context': return (_s, r) => r.contextExtensions.get(name);
    default: return (s) => {
      const claims = s.user?.claims;
      const claim = claims && Object.hasOwn(claims, name) ? claims[name] : undefined;
      return claim === undefined ? undefined : JSON.stringify(claim);
    };
  }
}

/** The attributes in a fixed order, frozen: the form compileTree exposes as `reads`. */
export function sortedReads(reads: Iterable<RequestAttribute>): ReadonlySet<RequestAttribute> {
  const sorted = new Set([...reads].sort());
  return Object.freeze(sorted);
}
