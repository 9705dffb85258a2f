/** The Check service, transport-free: CheckRequest → pipeline → exactly one CheckResponse, never a throw. */
export {
  createAuthorizationService,
  DEFAULT_REQUEST_LIMITS,
  UNREADABLE_REQUEST,
  type AuthorizationService,
  type AuthorizationServiceOptions,
  type CallHeaders,
  type CheckSpan,
  type CheckTracing,
  type CheckHandler,
} from './authorization-service.js';
export type { CheckRequestLimits } from '../envoy/index.js';
