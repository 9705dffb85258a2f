/**
 * The normalized attributes of one request, independent of Envoy's wire types: an HTTP
 * request, or a TCP connection (Envoy's network ext_authz filter), which has only the peers
 * and the TLS session. Built once per Check by the envoy/ adapter; read by identity/,
 * policy/ and telemetry/.
 */

/**
 * `http`: an HTTP request. `connection`: a TCP connection, which carries no HTTP attributes:
 * its method is CONNECTION_METHOD and its path, raw path, query, host, scheme and protocol are
 * empty, its headers none and its body absent (so logs show method `TCP` and no path).
 */
export type RequestKind = 'http' | 'connection';

/** The method a connection is logged and counted under; never matched by a policy's `methods`. */
export const CONNECTION_METHOD = 'TCP';

/** One end of the connection as Envoy saw it. */
export interface Peer {
  /** IP address (v4 or v6 text form), absent for pipes or when Envoy did not send it. */
  readonly address?: string;
  readonly port?: number;
  /** The peer's principal as Envoy reports it (for mTLS: the URI SAN, usually a SPIFFE ID). */
  readonly principal?: string;
  /** URL-encoded PEM of the peer certificate, when Envoy's `include_peer_certificate` is on. */
  readonly certificate?: string;
}

export interface AccessRequest {
  readonly kind: RequestKind;
  /** Envoy's request id (`x-request-id` or `request.http.id`), used in responses and logs. */
  readonly requestId: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Canonical path: decoded unreserved characters, dot segments resolved, no query, no fragment. */
  readonly path: string;
  /** The path exactly as Envoy sent it (for logs and explain traces only, never for matching). */
  readonly rawPath: string;
  /** Query string without the leading `?` (empty when none). */
  readonly query: string;
  /** Canonical host: lower case, no port, no trailing dot. */
  readonly host: string;
  readonly scheme: string;
  readonly protocol: string;
  /** Lower-case header names; repeated headers joined with "," as HTTP allows. */
  readonly headers: ReadonlyMap<string, string>;
  readonly source: Peer;
  readonly destination: Peer;
  /** Envoy's per-route `context_extensions` (e.g. `service`, `namespace`, workload labels). */
  readonly contextExtensions: ReadonlyMap<string, string>;
  /** TLS server name requested by the downstream, empty when none. */
  readonly sni: string;
  /** Envoy's `metadata_context.filter_metadata`, as plain JSON (e.g. jwt_authn's verified claims). */
  readonly filterMetadata: Readonly<Record<string, unknown>>;
  /**
   * The request body as Envoy forwarded it (`with_request_body`), unread: policy/ parses it only
   * when a policy reads it. Absent when Envoy sent none. Whether it is whole is Envoy's
   * `x-envoy-auth-partial-body` header. Never logged.
   */
  readonly body?: Uint8Array;
}

/** What a connection has of the attributes (the rest are HTTP's: empty on a connection). */
export type ConnectionAttributes = Pick<AccessRequest, 'source' | 'destination' | 'contextExtensions' | 'sni' | 'filterMetadata'>;

const NO_HEADERS: ReadonlyMap<string, string> = new Map();

/**
 * A connection as an AccessRequest. Written in the HTTP adapter's property order, so both
 * kinds of request share one object shape and the matchers that read them stay monomorphic.
 */
export function connectionRequest(attributes: ConnectionAttributes): AccessRequest {
  return {
    kind: 'connection',
    requestId: '',
    method: CONNECTION_METHOD,
    path: '',
    rawPath: '',
    query: '',
    host: '',
    scheme: '',
    protocol: '',
    headers: NO_HEADERS,
    source: attributes.source,
    destination: attributes.destination,
    contextExtensions: attributes.contextExtensions,
    sni: attributes.sni,
    filterMetadata: attributes.filterMetadata,
    body: undefined,
  };
}
