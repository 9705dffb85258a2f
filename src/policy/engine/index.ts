/** The policy engine's public surface: compile, evaluate, explain, key decisions. */
export { compileTree } from './tree/decision-tree.js';
export type { DecisionTree, TreeStats } from './tree/decision-tree.js';
export { CompileError } from './compile-error.js';
export type { CompileErrorCode } from './compile-error.js';
export { decisionKey, decisionKeyBuilder } from './request-attribute.js';
export type { DecisionKeyBuilder, RequestAttribute } from './request-attribute.js';
export { DestinationResolver, resolveDestination } from './destination.js';
export type { Destination, DestinationIdMemo } from './destination.js';
export { referenceEvaluate } from './reference/reference-evaluate.js';
export { explain, trace as traceExplanation } from './reference/explain.js';
export type { ExplainTrace, PolicyTrace, RuleTrace } from './reference/explain.js';
export type { ClauseFailure } from './reference/rule-check.js';
export { formatExplain } from './reference/format-explain.js';
export { DEFAULT_MAX_BODY_BYTES } from './body/read-body.js';
