/** The gRPC face of meshwarden: Authorization (ext_authz v3) and Health, on either transport. */
export { AUTHORIZATION_SERVICE_NAME, CHECK_METHOD_PATH } from './authorization-definition.js';
export type { GrpcCall, GrpcMethodHandler } from './grpc-call.js';
export { createHealthReporter, HEALTH_CHECK_PATH, HEALTH_SERVICE_NAMES, HEALTH_WATCH_PATH, type HealthReporter } from './health.js';
export type {
  ClientAdmission,
  GrpcServerOptions,
  GrpcTlsMaterial,
  GrpcTransport,
  ListenerLoad,
  RunningGrpcServer,
  TlsMaterialSource,
} from './listener.js';
export { startGrpcServer } from './start.js';
export { GrpcStatus, type GrpcStatusCode } from './grpc-status.js';
