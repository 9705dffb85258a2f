/**
 * Envoy's HTTP ext_authz service (`http_service`) → CheckRequest: Envoy builds the CheckRequest
 * it would send a gRPC service, then re-encodes its request attributes as an HTTP request
 * (`ext_authz_http_impl.cc`: the method, `path_prefix` + the path, the headers its
 * `allowed_headers` let through, `headers_to_add`, the body). This reverses that encoding, so
 * both services reach `toAccessRequest` and the one pipeline with the same message. What the
 * gRPC service gets outside the headers, Envoy can send as `x-meshwarden-*` headers it adds
 * (context extensions, the caller's address, this workload's SPIFFE ID); the rest (the peer's
 * principal and certificate, ports, SNI, metadata) stays absent. A request Envoy could not have
 * sent throws InvalidRequestError (answered 400).
 */
import { isIP } from 'node:net';
import { InvalidRequestError } from './invalid-request-error.js';
import type { AttributeContextMessage, CheckRequestMessage, HttpRequestMessage } from './wire-messages.js';

/** One request on the HTTP listener, as node:http parsed it and before anything was read from it. */
export interface HttpServiceRequest {
  readonly method: string;
  /** The request-target: Envoy's `path_prefix`, then the original path and query. */
  readonly target: string;
  /** Header names and values in arrival order (node:http's `rawHeaders`: values as latin1 text). */
  readonly rawHeaders: readonly string[];
  /** The client's body as Envoy forwarded it (`with_request_body`); absent or empty when none. */
  readonly body?: Uint8Array;
}

export interface HttpServiceOptions {
  /** Envoy's `http_service.path_prefix`: '' or segments without a trailing slash. */
  readonly pathPrefix: string;
}

/**
 * Headers named `x-meshwarden-context-KEY` are `context_extensions[KEY]`: what the gRPC service
 * gets from `check_settings.context_extensions`, Envoy sends the HTTP service through
 * `authorization_request.headers_to_add` (`service`, `namespace`, workload selector labels).
 */
export const CONTEXT_HEADER_PREFIX = 'x-meshwarden-context-';

/**
 * Connection attributes the gRPC service gets from Envoy itself, which Envoy can send the HTTP
 * service with `headers_to_add` and its formatters: the caller's address
 * (`%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%`, for ipBlocks), the caller's SPIFFE ID from the
 * mTLS handshake (`%DOWNSTREAM_PEER_URI_SAN%`, what Istio's HTTP provider can send in place of
 * XFCC) and this workload's own (`%DOWNSTREAM_LOCAL_URI_SAN%`, the destination when no context
 * names it). Absent, they stay unseen, as over gRPC without them.
 */
export const SOURCE_ADDRESS_HEADER = 'x-meshwarden-source-address';
export const SOURCE_PRINCIPAL_HEADER = 'x-meshwarden-source-principal';
export const DESTINATION_PRINCIPAL_HEADER = 'x-meshwarden-destination-principal';

/**
 * Headers of the authorization request itself, not of the client's: Envoy's HTTP client sets
 * `content-length` to what it forwards and adds `x-envoy-internal` and
 * `x-envoy-expected-rq-timeout-ms` to every call; the rest are hop-by-hop. The gRPC service
 * sees none of them from Envoy, so neither does policy here.
 */
const NOT_THE_CLIENTS: ReadonlySet<string> = new Set([
  'content-length',
  'x-envoy-internal',
  'x-envoy-expected-rq-timeout-ms',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'proxy-connection',
]);

const NON_ASCII = /[^\x00-\x7f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function fromHttpServiceRequest(request: HttpServiceRequest, options: HttpServiceOptions): CheckRequestMessage {
  const path = pathAfterPrefix(request.target, options.pathPrefix);
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const attributes: AttributeContextMessage = {};
  readHeaders(request.rawHeaders, headers, attributes);
  headers[':method'] = request.method;
  headers[':path'] = path;
  const host = headers[':authority'];
  if (host === undefined) throw new InvalidRequestError('missing_http_attributes', 'header:host', 'absent; Envoy always sends it');
  const http: HttpRequestMessage = { method: request.method, path, host, headers };
  if (request.body !== undefined && request.body.length > 0) http.rawBody = request.body;
  attributes.request = { http };
  return { attributes };
}

/** The original path: what follows the prefix, which Envoy always sends and always follows with `/`. */
function pathAfterPrefix(target: string, prefix: string): string {
  if (target.startsWith(prefix) && target.charCodeAt(prefix.length) === 0x2f /* / */) return target.slice(prefix.length);
  const expected = prefix === '' ? 'a path starting with "/"' : `a path starting with http.pathPrefix "${prefix}/"`;
  throw new InvalidRequestError('invalid_path', 'path', `expected ${expected}`);
}

/**
 * Fills `headers` (lower-case names, `host` as `:authority` like the gRPC service's map) and,
 * from the headers Envoy adds, the attributes' context extensions and peers. Envoy sends each
 * header once, repeated values already joined; a repeated name is refused, not joined:
 * node:http keeps only one copy of some (authorization, host, content-type), and the copy
 * policy saw must be the one Envoy meant.
 */
function readHeaders(raw: readonly string[], headers: Record<string, string>, attributes: AttributeContextMessage): void {
  const seen = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (seen.has(name)) throw new InvalidRequestError('invalid_header', `header:${name}`, 'sent more than once; Envoy sends each header once');
    seen.add(name);
    if (NOT_THE_CLIENTS.has(name)) continue;
    const value = textOf(raw[i + 1]!, name);
    if (!name.startsWith('x-meshwarden-') || !readEnvoyAttribute(name, value, attributes)) headers[name === 'host' ? ':authority' : name] = value;
  }
}

/** Whether `name` is one of the headers that carry what the gRPC service gets outside the headers. */
function readEnvoyAttribute(name: string, value: string, attributes: AttributeContextMessage): boolean {
  if (name.startsWith(CONTEXT_HEADER_PREFIX)) {
    const context = (attributes.contextExtensions ??= Object.create(null) as Record<string, string>) as Record<string, string>;
    context[contextKey(name)] = value;
  } else if (name === SOURCE_ADDRESS_HEADER) {
    if (isIP(value) === 0) throw new InvalidRequestError('invalid_header', `header:${name}`, 'not an IP address');
    (attributes.source ??= {}).address = { socketAddress: { address: value } };
  } else if (name === SOURCE_PRINCIPAL_HEADER) {
    (attributes.source ??= {}).principal = value;
  } else if (name === DESTINATION_PRINCIPAL_HEADER) {
    attributes.destination = { principal: value };
  } else {
    return false;
  }
  return true;
}

function contextKey(name: string): string {
  const key = name.slice(CONTEXT_HEADER_PREFIX.length);
  if (key === '') throw new InvalidRequestError('invalid_header', `header:${name}`, 'names no context_extensions key');
  return key;
}

/** node:http reads header bytes as latin1; the gRPC service gets them as UTF-8, so they are read again as such. */
function textOf(latin1: string, name: string): string {
  if (!NON_ASCII.test(latin1)) return latin1;
  try {
    return utf8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    throw new InvalidRequestError('invalid_header', `header:${name}`, 'header value is not valid UTF-8');
  }
}
