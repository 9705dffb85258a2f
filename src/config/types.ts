/**
 * The server configuration after loading: every key has its value, paths are absolute,
 * durations are milliseconds. Frozen once built; nothing re-reads it per request.
 */
import type { CheckRequestLimits } from '../check/index.js';
import type { IdentityOptions } from '../identity/index.js';
import type { DecisionLogConfig } from './decision-log-config.js';

export type ListenAddress = string; // `host:port` or `unix:/path`

/** The listener's certificate as files, or as meshwarden's X.509-SVID from the Workload API. */
export type GrpcTlsConfig = GrpcTlsFiles | GrpcTlsFromWorkloadApi;

export interface GrpcTlsFiles {
  readonly cert: string;
  readonly key: string;
  /** CA bundle for client certificates; with it, clients must present a valid certificate. */
  readonly clientCa?: string;
  /** Client SPIFFE IDs (URI SANs) allowed to call Check; empty means any valid client. */
  readonly allowedClientIds: readonly string[];
}

/** `grpc.tls.fromWorkloadApi: true`: the SVID and its trust bundle (always mTLS), rotated by the agent. */
export interface GrpcTlsFromWorkloadApi {
  /** The agent's socket: identity.workloadApi.socket, else SPIFFE_ENDPOINT_SOCKET. */
  readonly workloadApi: { readonly socket: string };
  readonly allowedClientIds: readonly string[];
}

/**
 * How a gRPC listener guards itself against its clients; every bound is on by default. The
 * CheckRequest limits (headers, path, attributes) are the Check service's, held here with the rest.
 */
export interface GrpcLimits extends CheckRequestLimits {
  /** Open connections at once; more are closed as they arrive. */
  readonly connections: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to every client. */
  readonly streamsPerConnection: number;
  /** Largest request message, after decompression. */
  readonly messageBytes: number;
  /** Request bytes buffered across all calls still arriving; a call past it is refused. */
  readonly bufferedBytes: number;
  /** Upper bound of any call's deadline, and the deadline of a call without `grpc-timeout`. */
  readonly deadlineMs: number;
}

/** Connection management: keepalive pings and connection lifetimes (undefined: none). */
export interface GrpcConnectionPolicy {
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly maxConnectionAgeMs?: number;
  readonly maxConnectionAgeGraceMs?: number;
  readonly maxConnectionIdleMs?: number;
}

/** How the HTTP ext_authz listener guards itself against its clients; every bound is on by default. */
export interface HttpLimits {
  /** Open connections at once; more are closed as they arrive. */
  readonly connections: number;
  /** Header lines of one request; more are refused 400. */
  readonly headers: number;
  /** Request line and headers of one request, in bytes; more are refused 400. */
  readonly headerBytes: number;
  /** Body of one request (what Envoy's `with_request_body` forwards); a longer one is refused 400 unread. */
  readonly bodyBytes: number;
  /** Body bytes buffered across all requests still arriving; a request past it is refused 400. */
  readonly bufferedBytes: number;
  /** Time a request has to arrive whole, and a connection to stay silent mid-request. */
  readonly deadlineMs: number;
}

/** The HTTP ext_authz listener (Envoy's `http_service`): off unless an address is given. */
export interface HttpListenerConfig {
  readonly address: ListenAddress | 'off';
  /** Envoy's `http_service.path_prefix`, taken off every request path; '' for none. */
  readonly pathPrefix: string;
  /** An idle keep-alive connection is closed after this long; keep Envoy's own idle_timeout shorter. */
  readonly maxConnectionIdleMs: number;
  readonly limits: HttpLimits;
}

export interface ServerConfig {
  /** Directory of the config file: relative paths in it are resolved from here. */
  readonly baseDir: string;
  readonly grpc: {
    readonly address: ListenAddress;
    readonly tls?: GrpcTlsConfig;
    /** Header that carries the verified caller identity upstream (spoofed copies removed). */
    readonly principalHeader: string;
    /** Decode %2F and %5C in paths instead of rejecting them with 400. */
    readonly decodeEncodedSlashes: boolean;
    /** `native` (node:http2, ours) or `grpc-js` (@grpc/grpc-js' Server). */
    readonly transport: 'native' | 'grpc-js';
    readonly connections: GrpcConnectionPolicy;
    readonly limits: GrpcLimits;
  };
  readonly http: HttpListenerConfig;
  readonly admin: {
    readonly address: ListenAddress | 'off';
    /** Serve the read-only live map at `/ui` and its API (what-if, reach). */
    readonly ui: boolean;
  };
  readonly policies: readonly string[];
  readonly shadowPolicies: readonly string[];
  readonly defaultAction: 'ALLOW' | 'DENY';
  readonly rootNamespace: string;
  /** Request bodies longer than this are not parsed: `request.body.json[...]` conditions treat them as unseen. */
  readonly maxBodyBytes: number;
  readonly identity?: IdentityOptions;
  readonly cache: {
    readonly decisions: { readonly enabled: boolean; readonly max: number; readonly ttlMs: number };
    /** Parsed SPIFFE IDs remembered (peer principals, destination principals), each memo LRU. */
    readonly principals: { readonly max: number };
  };
  readonly decisionLog: DecisionLogConfig;
  readonly metrics: {
    readonly perPolicy: boolean;
    readonly flows: { readonly enabled: boolean; readonly maxSeries: number };
  };
  readonly flowGraph: { readonly maxEdges: number; readonly maxPathsPerEdge: number };
  readonly reload: { readonly watch: boolean; readonly debounceMs: number };
  readonly shutdown: {
    readonly drainMs: number;
    /** Time between reporting NOT_SERVING and closing the listener, so balancers can see it. */
    readonly notServingDelayMs: number;
  };
  readonly workers: number;
  /** OpenTelemetry traces of Checks; absent (the default): off, nothing on the Check path. */
  readonly tracing?: TracingConfig;
}

export interface TracingConfig {
  readonly otlp: {
    readonly endpoint: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
    /** Resolved from the config file's directory; tracing reads and checks it at start-up. */
    readonly caFile?: string;
  };
  readonly sampleRate: number;
  readonly parentBased: boolean;
}
