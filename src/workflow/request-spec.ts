/**
 * The hand-written forms of a request and a caller (YAML, already schema-checked) into the
 * AccessRequest and Subject the engine sees. Path and host are canonicalized exactly as the
 * Envoy adapter does, so a case tests what the server would enforce.
 */
import {
  tryParseSpiffeId,
  CanonicalizationError,
  canonicalizeHost,
  canonicalizePath,
  queryOf,
  type AccessRequest,
  type EndUser,
  type Peer,
  type Subject,
} from '../domain/index.js';
import type { FieldPath } from '../lib/index.js';
import { issue, type Issue } from '../policy/index.js';

export interface PeerSpec {
  readonly principal?: string;
  readonly address?: string;
  readonly port?: number;
}

export interface RequestSpec {
  readonly requestId?: string;
  readonly method: string;
  readonly path: string;
  readonly host?: string;
  readonly scheme?: string;
  readonly protocol?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body Envoy would forward (`with_request_body`): text as written, any other value as JSON. */
  readonly body?: unknown;
  /** The body's `content-type`; JSON when the body is not text and no header names one. */
  readonly contentType?: string;
  readonly source?: PeerSpec;
  readonly destination?: PeerSpec;
  readonly contextExtensions?: Readonly<Record<string, string>>;
  readonly sni?: string;
}

export interface SubjectSpec {
  readonly principal?: string;
  readonly user?: {
    readonly issuer: string;
    readonly subject: string;
    readonly audiences?: readonly string[];
    readonly claims?: Readonly<Record<string, unknown>>;
  };
}

/** Either the request, or the issues (placed under `at`) that stop it from being built. */
export type Built<T> = { readonly value: T; readonly issues: readonly [] } | { readonly value?: undefined; readonly issues: readonly Issue[] };

export function buildAccessRequest(spec: RequestSpec, at: FieldPath): Built<AccessRequest> {
  const headers = lowerCased(spec.headers);
  const contentType = contentTypeOf(spec, headers);
  if (typeof contentType === 'object') return { issues: [{ ...contentType, path: [...at, ...contentType.path] }] };
  if (contentType !== undefined) headers.set('content-type', contentType);
  const authority = spec.host ?? headers.get(':authority') ?? headers.get('host') ?? '';
  let path: string;
  let host: string;
  try {
    path = canonicalizePath(spec.path);
  } catch (error) {
    return failed(error, [...at, 'path'], 'invalid_path');
  }
  try {
    host = canonicalizeHost(authority);
  } catch (error) {
    return failed(error, [...at, spec.host === undefined ? 'headers' : 'host'], 'invalid_host');
  }
  const request: AccessRequest = {
    kind: 'http',
    requestId: spec.requestId ?? headers.get('x-request-id') ?? '',
    method: spec.method.toUpperCase(),
    path,
    rawPath: spec.path,
    query: queryOf(spec.path),
    host,
    scheme: (spec.scheme ?? '').toLowerCase(),
    protocol: spec.protocol ?? '',
    headers,
    source: peer(spec.source),
    destination: peer(spec.destination),
    contextExtensions: new Map(Object.entries(spec.contextExtensions ?? {})),
    sni: spec.sni ?? '',
    filterMetadata: {},
    ...(spec.body === undefined ? {} : { body: bodyBytes(spec.body) }),
  };
  return { value: request, issues: [] };
}

const JSON_CONTENT_TYPE = 'application/json';

/** `contentType`, else a `content-type` header, else JSON for a body written as YAML data. */
function contentTypeOf(spec: RequestSpec, headers: ReadonlyMap<string, string>): string | Issue | undefined {
  const header = headers.get('content-type');
  if (spec.contentType !== undefined && header !== undefined && header !== spec.contentType) {
    return issue('invalid_value', ['contentType'], `contentType "${spec.contentType}" contradicts headers.content-type "${header}": give one`);
  }
  if (spec.contentType !== undefined) return spec.contentType;
  if (header === undefined && spec.body !== undefined && typeof spec.body !== 'string') return JSON_CONTENT_TYPE;
  return undefined;
}

function bodyBytes(body: unknown): Uint8Array {
  return new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Where the subject and the request sit in their document, for error positions. */
export interface SpecPaths {
  readonly subject: FieldPath;
  readonly request: FieldPath;
}

/**
 * The caller: `subject.principal` when given, else the request's source principal, as the
 * server's mTLS peer identity would be. A principal given here that is not a SPIFFE ID is an
 * author's mistake, reported rather than silently tested as anonymous.
 */
export function buildSubject(spec: SubjectSpec | undefined, request: RequestSpec, at: SpecPaths): Built<Subject> {
  const explicit = spec?.principal !== undefined;
  const principal = spec?.principal ?? request.source?.principal;
  const workload = principal === undefined ? undefined : tryParseSpiffeId(principal);
  if (principal !== undefined && workload === undefined) {
    const where: FieldPath = explicit ? [...at.subject, 'principal'] : [...at.request, 'source', 'principal'];
    return { issues: [issue('invalid_principal', where, `"${principal}" is not a SPIFFE ID (spiffe://trust-domain/path)`)] };
  }
  const subject: Subject = {
    ...(workload ? { workload, workloadEvidence: 'mtls-principal' as const } : {}),
    ...(spec?.user ? { user: endUser(spec.user) } : {}),
  };
  return { value: subject, issues: [] };
}

function endUser(user: NonNullable<SubjectSpec['user']>): EndUser {
  return {
    principal: `${user.issuer}/${user.subject}`,
    issuer: user.issuer,
    subject: user.subject,
    audiences: user.audiences ?? [],
    claims: { iss: user.issuer, sub: user.subject, ...(user.claims ?? {}) },
  };
}

function failed(error: unknown, path: FieldPath, code: 'invalid_path' | 'invalid_host'): Built<never> {
  if (!(error instanceof CanonicalizationError)) throw error;
  return { issues: [issue(code, path, `${error.message} (${error.code}): the server would answer 400`)] };
}

function lowerCased(headers: Readonly<Record<string, string>> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers ?? {})) out.set(name.toLowerCase(), value);
  return out;
}

function peer(spec: PeerSpec | undefined): Peer {
  const out: { -readonly [K in keyof Peer]: Peer[K] } = {};
  if (spec?.address !== undefined) out.address = spec.address;
  if (spec?.port !== undefined) out.port = spec.port;
  if (spec?.principal !== undefined) out.principal = spec.principal;
  return out;
}
