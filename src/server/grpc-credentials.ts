/**
 * Transport security of the ext_authz listener: plaintext (loopback, unix socket, or a
 * mesh that encrypts for us), TLS, or mTLS with a client CA that every caller must chain to.
 */
import { readFile } from 'node:fs/promises';
import { ServerCredentials } from '@grpc/grpc-js';
import type { GrpcTlsConfig } from '../config/types.js';

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
