/** The gRPC face of meshwarden: Authorization (ext_authz v3) and Health services. */
export {
  createAuthorizationService,
  type AuthorizationService,
  type AuthorizationServiceOptions,
  type CheckHandler,
  type CheckOutcome,
  type CheckResult,
} from './authorization-service.js';
export { authorizationServiceDefinition, AUTHORIZATION_SERVICE_NAME, CHECK_METHOD_PATH } from './authorization-definition.js';
export { createHealthReporter, HEALTH_SERVICE_NAMES, type HealthReporter } from './health.js';
export { startGrpcServer, type GrpcServerOptions, type GrpcServiceRegistration, type RunningGrpcServer } from './grpc-server.js';
