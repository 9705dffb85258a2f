/**
 * Transport security of the ext_authz listener: plaintext (loopback, unix socket, or a
 * mesh that encrypts for us), TLS, or mTLS with a client CA that every caller must chain to,
 * optionally narrowed to an allowlist of client SPIFFE IDs. The certificate, key and client CA
 * are files that rotate: watched, checked, and swapped in without a restart.
 */
import type { GrpcTlsConfig } from '../config/index.js';
import { clientAllowlist, type ClientAllowlistOptions } from './grpc/client-allowlist.js';
import type { ClientAdmission } from './grpc/listener.js';
import { TlsMaterialFiles, type TlsMaterialFilesOptions } from './net/tls-material-files.js';

export interface ListenerSecurity {
  /** The TLS files in service, watched; close it once the listener is closed. */
  readonly tls?: TlsMaterialFiles;
  /** Admission of each connection before its calls run (absent without an allowlist). */
  readonly admitClient?: ClientAdmission;
}

export type ListenerSecurityOptions = ClientAllowlistOptions & TlsMaterialFilesOptions;

/** Bad files at start throw a TlsMaterialError (the process does not start); later, they keep the last good ones. */
export async function grpcListenerSecurity(
  tls: GrpcTlsConfig | undefined,
  options: ListenerSecurityOptions = {},
): Promise<ListenerSecurity> {
  if (tls === undefined) return {};
  if (tls.allowedClientIds.length > 0 && tls.clientCa === undefined) {
    // the schema says so too; a ServerConfig built by hand must not silently admit everyone
    throw new TypeError('grpc.tls.allowedClientIds needs grpc.tls.clientCa: client IDs are only known from verified client certificates');
  }
  // the allowlist first: a misused option throws before any file is watched
  const admitClient = tls.allowedClientIds.length === 0 ? undefined : clientAllowlist(tls.allowedClientIds, options);
  const paths = tls.clientCa === undefined ? { cert: tls.cert, key: tls.key } : { cert: tls.cert, key: tls.key, clientCa: tls.clientCa };
  const material = await TlsMaterialFiles.open(paths, options);
  return admitClient === undefined ? { tls: material } : { tls: material, admitClient };
}
