/** Starts the ext_authz listener on the transport the options name, with the one method table. */
import { startGrpcJsServer } from '../grpc-js/grpc-js-server.js';
import { startNativeServer } from '../native/native-server.js';
import { DEFAULT_CONNECTION_POLICY, DEFAULT_GRPC_LIMITS } from '../../config/index.js';
import { createHealthReporter } from './health.js';
import type { GrpcServerOptions, ListenerSettings, RunningGrpcServer } from './listener.js';
import { methodTable } from './methods.js';

export function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const health = createHealthReporter(options.initiallyServing === true);
  const methods = methodTable(options.authorization, health);
  // defaults filled in once, here: both transports serve by the same bounds
  const settings: ListenerSettings = {
    limits: { ...DEFAULT_GRPC_LIMITS, ...options.limits },
    connections: { ...DEFAULT_CONNECTION_POLICY, ...options.connections },
  };
  const transport = options.transport ?? 'native';
  switch (transport) {
    case 'native':
      return startNativeServer(options, methods, health, settings);
    case 'grpc-js':
      return startGrpcJsServer(options, methods, health, settings);
  }
}
