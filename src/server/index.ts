/** server/: one serving process (runtime, lifecycle, operational log) or a cluster of them; transports and admin beneath. */
export { policyInfo, startRuntime, StartupError } from './runtime.js';
export type { Runtime, RuntimeOptions } from './runtime.js';
export { runUntilSignalled } from './lifecycle.js';
export type { Serving } from './lifecycle.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { startClusterPrimary } from './cluster/index.js';
export type { UiAnalysis, UiAnswer } from './admin/index.js';
