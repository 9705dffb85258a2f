/**
 * Explain traces: every policy, whether it applied to the destination and why, every
 * rule of an applicable policy, matched or the first clause that failed, and the final
 * Evaluation, decided naively from those traces. The reference evaluator is this
 * evaluation; the DecisionTree must agree with it on every request.
 */
import type { AccessRequest, Subject } from '../../../domain/index.js';
import type { Evaluation } from '../../evaluation.js';
import type { EngineOptions, Policy, PolicyAction, PolicyMode } from '../../model.js';
import { resolveDestination, type Destination } from '../destination.js';
import { sortPolicies } from '../policy-order.js';
import { compileTree } from '../tree/decision-tree.js';
import { decideNaively } from './decide.js';
import { checkRule, type ClauseFailure } from './rule-check.js';
import { checkScope } from './scope.js';
import { withTrustDomainAliases } from '../trust-domain-aliases.js';

export type RuleTrace =
  | { readonly index: number; readonly matched: true }
  | { readonly index: number; readonly matched: false; readonly failure: ClauseFailure };

export interface PolicyTrace {
  readonly id: string;
  readonly action: PolicyAction;
  readonly mode: PolicyMode;
  readonly applies: boolean;
  /** Why the policy applies or not (service, namespace, selector). */
  readonly scope: string;
  /** Empty when the policy does not apply. */
  readonly rules: readonly RuleTrace[];
}

export interface ExplainTrace {
  readonly destination: Destination;
  /** In decision order (policy id). */
  readonly policies: readonly PolicyTrace[];
  readonly evaluation: Evaluation;
}

/** Validates the policies as the server would (throws CompileError), then traces. */
export function explain(policies: readonly Policy[], options: EngineOptions, subject: Subject, request: AccessRequest): ExplainTrace {
  compileTree(policies, options);
  return trace(policies, options, subject, request);
}

export function trace(policies: readonly Policy[], options: EngineOptions, subject: Subject, request: AccessRequest): ExplainTrace {
  const destination = resolveDestination(request);
  const traces = sortPolicies(withTrustDomainAliases(policies, options.trustDomainAliases)).map((policy) => tracePolicy(policy, options, destination, subject, request));
  return { destination, policies: traces, evaluation: decideNaively(traces, options) };
}

function tracePolicy(
  policy: Policy,
  options: EngineOptions,
  destination: Destination,
  subject: Subject,
  request: AccessRequest,
): PolicyTrace {
  const scope = checkScope(policy, options, destination, request);
  const base = { id: policy.id, action: policy.action, mode: policy.mode, applies: scope.applies, scope: scope.why };
  if (!scope.applies) return { ...base, rules: [] };
  const rules = policy.rules.map((rule, index): RuleTrace => {
    const failure = checkRule(rule, { subject, request, maxBodyBytes: options.maxBodyBytes }, policy.action);
    return failure === undefined ? { index, matched: true } : { index, matched: false, failure };
  });
  return { ...base, rules };
}
