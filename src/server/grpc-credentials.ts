/**
 * Transport security of the ext_authz listener: plaintext (loopback, unix socket, or a
 * mesh that encrypts for us), TLS, or mTLS with a client CA that every caller must chain to,
 * optionally narrowed to an allowlist of client SPIFFE IDs.
 */
import { readFile } from 'node:fs/promises';
import { ServerCredentials, type ServerInterceptor } from '@grpc/grpc-js';
import type { GrpcTlsConfig } from '../config/types.js';
import { clientAllowlistInterceptor, type ClientAllowlistOptions } from './grpc/client-allowlist.js';

export interface ListenerSecurity {
  readonly credentials: ServerCredentials;
  /** Admission checks to run before every call (empty without an allowlist). */
  readonly interceptors: readonly ServerInterceptor[];
}

export async function grpcListenerSecurity(
  tls: GrpcTlsConfig | undefined,
  options: ClientAllowlistOptions = {},
): Promise<ListenerSecurity> {
  if (tls === undefined) return { credentials: ServerCredentials.createInsecure(), interceptors: [] };
  if (tls.allowedClientIds.length > 0 && tls.clientCa === undefined) {
    // the schema says so too; a ServerConfig built by hand must not silently admit everyone
    throw new TypeError('grpc.tls.allowedClientIds needs grpc.tls.clientCa: client IDs are only known from verified client certificates');
  }
  return { credentials: await grpcCredentials(tls), interceptors: allowlist(tls, options) };
}

export async function grpcCredentials(tls: GrpcTlsConfig | undefined): Promise<ServerCredentials> {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const [cert, key, clientCa] = await Promise.all([
    readFile(tls.cert),
    readFile(tls.key),
    tls.clientCa === undefined ? Promise.resolve(null) : readFile(tls.clientCa),
  ]);
  // With a client CA, a client without a certificate that chains to it is refused in the handshake.
  return ServerCredentials.createSsl(clientCa, [{ cert_chain: cert, private_key: key }], clientCa !== null);
}

function allowlist(tls: GrpcTlsConfig, options: ClientAllowlistOptions): ServerInterceptor[] {
  return tls.allowedClientIds.length === 0 ? [] : [clientAllowlistInterceptor(tls.allowedClientIds, options)];
}
