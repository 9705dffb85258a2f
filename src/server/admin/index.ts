/** Admin HTTP server: metrics, health and readiness probes, policy and flow introspection. */
export { startAdminServer } from './admin-server.js';
export type { AdminServer, AdminServerOptions } from './admin-server.js';
export type { AdminProviders, HealthStatus } from './routes.js';
export { AdminServerError } from './errors.js';
export type { AdminServerErrorCode } from './errors.js';
export { DEFAULT_ADMIN_ADDRESS, parseListenAddress } from './listen-address.js';
export type { ListenAddress } from './listen-address.js';
export { DEFAULT_UI_LIMITS } from './ui/ui-routes.js';
export type { AdminUi, AdminUiOptions, UiLimits } from './ui/ui-routes.js';
export type { UiAnalysis, UiAnswer } from './ui/ui-analysis.js';
