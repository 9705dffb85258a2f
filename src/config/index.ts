/** config/: the server configuration. Its schema, its defaults, and loading it from a file, flags and the environment. */
export { ConfigError, loadConfig, parseConfigText } from './load.js';
export {
  buildConfig,
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_CONNECTION_POLICY,
  DEFAULT_GRPC_ADDRESS,
  DEFAULT_GRPC_LIMITS,
  DEFAULT_HTTP_ADDRESS,
  DEFAULT_HTTP_LIMITS,
} from './build.js';
export type { RawConfig } from './build.js';
export { CONFIG_SCHEMA } from './schema.js';
export { engineOptionsOf } from './engine-options.js';
export type { GrpcConnectionPolicy, GrpcLimits, GrpcTlsConfig, GrpcTlsFiles, GrpcTlsFromWorkloadApi, HttpLimits, HttpListenerConfig, ListenAddress, ServerConfig } from './types.js';
