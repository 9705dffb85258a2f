/**
 * Transport security of the ext_authz listener: plaintext (loopback, unix socket, or a
 * mesh that encrypts for us), TLS, or mTLS with a client CA that every caller must chain to,
 * optionally narrowed to an allowlist of client SPIFFE IDs.
 */
import { readFile } from 'node:fs/promises';
import type { GrpcTlsConfig } from '../config/types.js';
import { clientAllowlist, type ClientAllowlistOptions } from './grpc/client-allowlist.js';
import type { ClientAdmission, GrpcTlsMaterial } from './grpc/listener.js';

export interface ListenerSecurity {
  readonly tls?: GrpcTlsMaterial;
  /** Admission of each connection before its calls run (absent without an allowlist). */
  readonly admitClient?: ClientAdmission;
}

export async function grpcListenerSecurity(
  tls: GrpcTlsConfig | undefined,
  options: ClientAllowlistOptions = {},
): Promise<ListenerSecurity> {
  if (tls === undefined) return {};
  if (tls.allowedClientIds.length > 0 && tls.clientCa === undefined) {
    // the schema says so too; a ServerConfig built by hand must not silently admit everyone
    throw new TypeError('grpc.tls.allowedClientIds needs grpc.tls.clientCa: client IDs are only known from verified client certificates');
  }
  const material = await tlsMaterial(tls);
  return tls.allowedClientIds.length === 0 ? { tls: material } : { tls: material, admitClient: clientAllowlist(tls.allowedClientIds, options) };
}

async function tlsMaterial(tls: GrpcTlsConfig): Promise<GrpcTlsMaterial> {
  const [cert, key, clientCa] = await Promise.all([
    readFile(tls.cert),
    readFile(tls.key),
    tls.clientCa === undefined ? Promise.resolve(undefined) : readFile(tls.clientCa),
  ]);
  return clientCa === undefined ? { cert, key } : { cert, key, clientCa };
}
