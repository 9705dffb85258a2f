/**
 * Transport security of the ext_authz listener: plaintext (loopback, unix socket, or a
 * mesh that encrypts for us), TLS, or mTLS with a client CA that every caller must chain to,
 * optionally narrowed to an allowlist of client SPIFFE IDs. The certificate, key and client CA
 * are files that rotate (watched, checked, and swapped in without a restart), or meshwarden's
 * own X.509-SVID and its trust bundle, streamed by the SPIFFE Workload API.
 */
import type { GrpcTlsConfig, GrpcTlsFiles } from '../config/index.js';
import { parseWorkloadApiEndpoint, type WorkloadSvidStats } from '../identity/index.js';
import { clientAllowlist, type ClientAllowlistOptions } from './grpc/client-allowlist.js';
import type { ClientAdmission, TlsMaterialSource } from './grpc/listener.js';
import { TlsMaterialFiles, type TlsMaterialFilesOptions } from './net/tls-material-files.js';
import { TlsMaterialWorkloadApi, type TlsMaterialWorkloadApiOptions } from './net/tls-material-workload-api.js';

/** TLS material in service that the runtime re-reads on SIGHUP and lets go at shutdown. */
export interface ListenerTls extends TlsMaterialSource {
  reload(): Promise<unknown>;
  close(): void;
}

export interface ListenerSecurity {
  /** The TLS material in service, followed; close it once the listener is closed. */
  readonly tls?: ListenerTls;
  /** Admission of each connection before its calls run (absent without an allowlist). */
  readonly admitClient?: ClientAdmission;
  /** From the Workload API only: why there is no SVID to serve yet (undefined once there is). */
  readonly notReadyReason?: () => string | undefined;
  /** From the Workload API only: the SVID stream's totals (metrics). */
  readonly svidStats?: () => Readonly<WorkloadSvidStats>;
}

export type ListenerSecurityOptions = ClientAllowlistOptions & TlsMaterialFilesOptions & { readonly svid?: TlsMaterialWorkloadApiOptions };

/** Bad files at start throw a TlsMaterialError (the process does not start); later, they keep the last good ones. */
export async function grpcListenerSecurity(
  tls: GrpcTlsConfig | undefined,
  options: ListenerSecurityOptions = {},
): Promise<ListenerSecurity> {
  if (tls === undefined) return {};
  const fromWorkloadApi = 'workloadApi' in tls;
  if (!fromWorkloadApi && tls.allowedClientIds.length > 0 && tls.clientCa === undefined) {
    // the schema says so too; a ServerConfig built by hand must not silently admit everyone
    throw new TypeError('grpc.tls.allowedClientIds needs grpc.tls.clientCa: client IDs are only known from verified client certificates');
  }
  // the allowlist first: a misused option throws before any file is watched or stream opened
  const admitClient = tls.allowedClientIds.length === 0 ? undefined : clientAllowlist(tls.allowedClientIds, options);
  const security = fromWorkloadApi ? svidSecurity(tls.workloadApi.socket, options.svid) : { tls: await filesMaterial(tls, options) };
  return admitClient === undefined ? security : { ...security, admitClient };
}

function filesMaterial(tls: GrpcTlsFiles, options: TlsMaterialFilesOptions): Promise<TlsMaterialFiles> {
  const paths = tls.clientCa === undefined ? { cert: tls.cert, key: tls.key } : { cert: tls.cert, key: tls.key, clientCa: tls.clientCa };
  return TlsMaterialFiles.open(paths, options);
}

function svidSecurity(socket: string, options: TlsMaterialWorkloadApiOptions = {}): ListenerSecurity {
  parseWorkloadApiEndpoint(socket, "grpc.tls.fromWorkloadApi (the agent's address, identity.workloadApi.socket or SPIFFE_ENDPOINT_SOCKET)");
  const tls = TlsMaterialWorkloadApi.start(socket, options);
  return { tls, notReadyReason: () => tls.notReadyReason, svidStats: () => tls.stats };
}
