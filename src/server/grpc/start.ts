/** Starts the ext_authz listener on the transport the options name, with the one method table. */
import { startGrpcJsServer } from '../grpc-js/grpc-js-server.js';
import { startNativeServer } from '../native/native-server.js';
import { createHealthReporter } from './health.js';
import type { GrpcServerOptions, RunningGrpcServer } from './listener.js';
import { methodTable } from './methods.js';

export function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const health = createHealthReporter(options.initiallyServing === true);
  const methods = methodTable(options.authorization, health);
  const transport = options.transport ?? 'native';
  switch (transport) {
    case 'native':
      return startNativeServer(options, methods, health);
    case 'grpc-js':
      return startGrpcJsServer(options, methods, health);
  }
}
