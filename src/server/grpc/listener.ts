/**
 * The ext_authz listener, whichever transport serves it: what it is given (address, TLS,
 * admission, limits, connection policy, the Check service) and what it hands back. The
 * transport is chosen by `grpc.transport`; both serve the same method table.
 */
import type { PeerCertificate } from 'node:tls';
import type { AuthorizationService } from '../../check/index.js';
import type { GrpcConnectionPolicy, GrpcLimits } from '../../config/index.js';
import type { HealthReporter } from './health.js';

export type GrpcTransport = 'native' | 'grpc-js';

export interface GrpcTlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** With it, every client must present a certificate that chains to it (mTLS). */
  readonly clientCa?: Buffer;
}

/** TLS material that can change while serving (certificate rotation). */
export interface TlsMaterialSource {
  /**
   * Undefined until the first material arrives (an X.509-SVID from the Workload API): until
   * then the listener closes every connection before its handshake.
   */
  readonly current: GrpcTlsMaterial | undefined;
  /** Whether clients must present a certificate; default: whether `current` has a client CA. */
  readonly mutual?: boolean;
  /** Told of each new, already validated material; returns the unsubscribe. */
  onChange(listener: (material: GrpcTlsMaterial) => void): () => void;
}

/** Transport admission: told a connection's client certificate, says whether its calls may run. */
export type ClientAdmission = (certificate: PeerCertificate | undefined) => boolean;

export interface GrpcServerOptions {
  /** `host:port` (port 0 picks a free one) or `unix:/path`. */
  readonly address: string;
  /** Default: native (ours, on node:http2). */
  readonly transport?: GrpcTransport;
  /** Default: plaintext (a sidecar on loopback or a unix socket). */
  readonly tls?: GrpcTlsMaterial | TlsMaterialSource;
  /** Run once per connection before any call; a refused client's calls end PERMISSION_DENIED. */
  readonly admitClient?: ClientAdmission;
  readonly authorization: AuthorizationService;
  /** Health status at start; default NOT_SERVING until the lifecycle says policies are loaded. */
  readonly initiallyServing?: boolean;
  /** Bounds on what clients may hold; default DEFAULT_GRPC_LIMITS, any key overridable. */
  readonly limits?: Partial<GrpcLimits>;
  /** Keepalive and connection lifetimes; default gRPC's keepalive and a 5-minute idle close. */
  readonly connections?: Partial<GrpcConnectionPolicy>;
}

export interface RunningGrpcServer {
  /** The bound address: `host:port` with the real port, or the `unix:` address as given. */
  readonly address: string;
  /** The bound TCP port; undefined on a unix socket. */
  readonly port: number | undefined;
  readonly transport: GrpcTransport;
  readonly health: HealthReporter;
  /** What clients hold now: open connections and buffered request bytes (where the transport knows them). */
  load(): ListenerLoad;
  /** Reports NOT_SERVING, lets calls in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export interface ListenerLoad {
  readonly connections?: number;
  readonly bufferedBytes?: number;
}

/** The listener's bounds and connection policy with every default filled in: what a transport serves by. */
export interface ListenerSettings {
  readonly limits: GrpcLimits;
  readonly connections: GrpcConnectionPolicy;
}

export function isTlsMaterialSource(tls: GrpcTlsMaterial | TlsMaterialSource): tls is TlsMaterialSource {
  return 'onChange' in tls;
}

/** Whether the listener asks every client for a certificate (decided once, at start). */
export function isMutualTls(tls: GrpcTlsMaterial | TlsMaterialSource): boolean {
  if (!isTlsMaterialSource(tls)) return tls.clientCa !== undefined;
  return tls.mutual ?? tls.current?.clientCa !== undefined;
}
