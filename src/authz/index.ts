/** authz/: the pipeline. Identity → decision cache → decision tree → one result; fail closed; shadow never changes an answer. */
export { Authorizer } from './authorizer.js';
export type { AuthorizerDeps, EvaluationObserver, SnapshotSource, SubjectResolver } from './authorizer.js';
export { DecisionCache } from './decision-cache.js';
export type { DecisionCacheOptions } from './decision-cache.js';
export { createShadowObserver } from './shadow.js';
export type { ShadowDisagreement } from './shadow.js';
