/**
 * policy/: the policy model, loading and validating policy files, the compiled decision tree,
 * the reference evaluator and explain. Pure and synchronous; knows nothing of Envoy or gRPC.
 */
export { countRules } from './model.js';
export type { Condition, EngineOptions, Operation, Policy, PolicyAction, PolicyFormat, PolicyMode, PolicyOrigin, PolicyScope, Rule, Source } from './model.js';
export type { Evaluation, Evaluator, PolicyReason } from './evaluation.js';
export { snapshotHash } from './snapshot.js';
export type { PolicySnapshot, SnapshotFile } from './snapshot.js';
export {
  compileTree,
  CompileError,
  DEFAULT_MAX_BODY_BYTES,
  decisionKey,
  decisionKeyBuilder,
  DestinationResolver,
  explain,
  formatExplain,
  referenceEvaluate,
  resolveDestination,
  traceExplanation,
} from './engine/index.js';
export type {
  ClauseFailure,
  CompileErrorCode,
  DecisionKeyBuilder,
  DecisionTree,
  Destination,
  DestinationIdMemo,
  ExplainTrace,
  PolicyTrace,
  RequestAttribute,
  RuleTrace,
  TreeStats,
} from './engine/index.js';
export { checkPolicies, formatCheckResult, formatPolicyError, loadPolicies, parsePolicyText, POLICY_ERROR_CODES, POLICY_SCHEMA_URL } from './load/index.js';
export type { CheckOutputFormat, CheckResult, LoadedFile, LoadOptions, LoadResult, ParseResult, PolicyError, PolicyErrorCode } from './load/index.js';
// How policy files are checked, for the other YAML files held to the same codes (config, workflow cases)
export { issue } from './load/issue.js';
export type { Issue } from './load/issue.js';
export { schemaIssues } from './load/schema-issues.js';
export { checkMethod } from './load/value-checks.js';
export { pathProblem } from './load/path-check.js';
// reach: who can get what allowed, over all requests (meshwarden reach, verify, the admin map)
export { blastRadius, callerClauses, computeReach, normalizeCaller, destinationKey, destinationLabel, OTHER_SERVICE, Reach } from './reach/index.js';
export type { BlastHop, BlastRadius, CallerClass, Clause, EntryLists, Grant, ReachDestination, ReachEntry, ReachInput, ReachQuery, ReachReport, Unless, Witness, WitnessRequest, WitnessUser } from './reach/index.js';
