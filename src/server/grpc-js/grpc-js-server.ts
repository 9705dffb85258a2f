/** The ext_authz listener on @grpc/grpc-js' Server (work in progress: not yet served). */
import type { HealthReporter } from '../grpc/health.js';
import type { GrpcServerOptions, RunningGrpcServer } from '../grpc/listener.js';
import type { MethodTable } from '../grpc/methods.js';

export async function startGrpcJsServer(_options: GrpcServerOptions, _methods: MethodTable, _health: HealthReporter): Promise<RunningGrpcServer> {
  throw new TypeError('grpc.transport grpc-js is not available yet');
}
