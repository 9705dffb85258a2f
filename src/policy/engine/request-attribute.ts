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
 */
import type { AccessRequest } from '../../domain/access-request.js';
import type { Subject } from '../../domain/subject.js';
import { spiffeNamespace } from '../../domain/spiffe-id.js';
import { resolveDestination, type Destination } from './destination.js';

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
  | `context:${string}`;

/**
 * A cache key made of exactly the attributes in `reads`, in the set's order (the tree's
 * set is sorted). Each part is length-prefixed and an absent value is distinct from an
 * empty one, so different attribute values never produce one key.
 */
export function decisionKey(reads: ReadonlySet<RequestAttribute>, subject: Subject, request: AccessRequest): string {
  let key = '';
  let destination: Destination | undefined;
  for (const attribute of reads) {
    if (attribute === 'destination.service' || attribute === 'destination.namespace') {
      destination ??= resolveDestination(request);
    }
    const value = attributeText(attribute, subject, request, destination);
    key += value === undefined ? '~' : `${value.length}:${value}`;
  }
  return key;
}

function attributeText(
  attribute: RequestAttribute,
  subject: Subject,
  request: AccessRequest,
  destination: Destination | undefined,
): string | undefined {
  const user = subject.user;
  switch (attribute) {
    case 'source.principal': return subject.workload?.uri;
    case 'source.namespace': return subject.workload && spiffeNamespace(subject.workload);
    case 'source.ip': return request.source.address;
    case 'request.auth.principal': return user?.principal;
    case 'request.auth.audiences': return user && JSON.stringify(user.audiences);
    case 'request.auth.presenter': return user?.presenter;
    case 'method': return request.method;
    case 'path': return request.path;
    case 'host': return request.host;
    case 'destination.ip': return request.destination.address;
    case 'destination.port': return request.destination.port?.toString();
    case 'connection.sni': return request.sni;
    case 'destination.service': return destination?.service;
    case 'destination.namespace': return destination?.namespace;
    default: return prefixedText(attribute, user?.claims, request);
  }
}

function prefixedText(
  attribute: `claim:${string}` | `header:${string}` | `context:${string}`,
  claims: Readonly<Record<string, unknown>> | undefined,
  request: AccessRequest,
): string | undefined {
  const colon = attribute.indexOf(':');
  const name = attribute.slice(colon + 1);
  switch (attribute.slice(0, colon)) {
    case 'header': return request.headers.get(name);
    case 'context': return request.contextExtensions.get(name);
    default: {
      const claim = claims && Object.hasOwn(claims, name) ? claims[name] : undefined;
      return claim === undefined ? undefined : JSON.stringify(claim);
    }
  }
}

/** The attributes in a fixed order, frozen: the form compileTree exposes as `reads`. */
export function sortedReads(reads: Iterable<RequestAttribute>): ReadonlySet<RequestAttribute> {
  const sorted = new Set([...reads].sort());
  return Object.freeze(sorted);
}
