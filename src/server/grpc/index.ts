/** The gRPC face of meshwarden: Authorization (ext_authz v3) and Health services on node:http2. */
export {
  createAuthorizationService,
  type AuthorizationService,
  type AuthorizationServiceOptions,
  type CheckHandler,
  type CheckOutcome,
  type CheckResult,
} from './authorization-service.js';
export { AUTHORIZATION_SERVICE_NAME, CHECK_METHOD_PATH } from './authorization-definition.js';
export { createHealthReporter, HEALTH_CHECK_PATH, HEALTH_SERVICE_NAMES, HEALTH_WATCH_PATH, type HealthReporter } from './health.js';
export {
  startGrpcServer,
  type ClientAdmission,
  type GrpcServerOptions,
  type GrpcTlsMaterial,
  type RunningGrpcServer,
} from './grpc-server.js';
export { GrpcStatus, type GrpcStatusCode } from './grpc-status.js';
