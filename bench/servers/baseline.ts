/**
 * The baseline: the textbook @grpc/grpc-js + @grpc/proto-loader server for the same service,
 * answering a constant OK CheckResponse. What any Node ext_authz server starts from.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, Server, ServerCredentials, type ServiceDefinition, type sendUnaryData } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { announce, grpcAddressArg } from './listen-args.js';

const PROTO = 'envoy/service/auth/v3/external_auth.proto';

/** The repository's proto/, found upwards from here (this file runs compiled, under node_modules/.cache). */
function protoDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', PROTO))) return join(dir, 'proto');
  }
  throw new Error(`baseline: ${PROTO} not found above ${import.meta.url}`);
}

const definition = loadSync(PROTO, { includeDirs: [protoDir()] });
type Package = { envoy: { service: { auth: { v3: { Authorization: { service: ServiceDefinition } } } } } };
const loaded = loadPackageDefinition(definition) as unknown as Package;
const OK = { status: { code: 0 }, ok_response: {} };

const { host, port } = grpcAddressArg(process.argv.slice(2));
const server = new Server();
server.addService(loaded.envoy.service.auth.v3.Authorization.service, {
  Check: (_call: unknown, callback: sendUnaryData<typeof OK>) => callback(null, OK),
});
server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
  if (error) throw error;
  announce('baseline', host, bound);
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
