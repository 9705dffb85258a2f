/** DESIGN's decision order over policy traces, step by step, for the reference evaluator. */
import type { DryRunOutcome, PolicyRef } from '../../../domain/index.js';
import type { Evaluation, PolicyReason } from '../../evaluation.js';
import type { EngineOptions, PolicyAction } from '../../model.js';
import type { PolicyTrace } from './explain.js';

export function decideNaively(traces: readonly PolicyTrace[], options: EngineOptions): Evaluation {
  const applicable = traces.filter((t) => t.applies);
  const enforced = applicable.filter((t) => t.mode === 'enforce');
  const verdict = decideOver(enforced, options);
  const audit = firstOf(enforced, 'AUDIT');
  const evaluation: { -readonly [K in keyof Evaluation]: Evaluation[K] } = { effect: verdict.effect, reason: verdict.reason };
  if (verdict.by !== undefined) evaluation.by = verdict.by;
  if (applicable.some((t) => t.mode === 'dry-run')) {
    const dry = decideOver(applicable, options);
    const dryRun: DryRunOutcome = dry.by === undefined ? { verdict: dry.effect } : { verdict: dry.effect, by: dry.by };
    evaluation.dryRun = dryRun;
  }
  if (audit !== undefined) evaluation.audit = audit;
  return evaluation;
}

interface Verdict {
  readonly effect: 'allow' | 'deny';
  readonly reason: PolicyReason;
  readonly by?: PolicyRef;
}

/**
 * 1. a matching DENY denies; 2. a matching ALLOW allows; 3. if an ALLOW policy applies to
 * this destination, the request is denied (Istio); 4. otherwise the default action.
 */
function decideOver(policies: readonly PolicyTrace[], options: EngineOptions): Verdict {
  const deny = firstOf(policies, 'DENY');
  if (deny !== undefined) return { effect: 'deny', reason: 'policy_deny', by: deny };
  const allow = firstOf(policies, 'ALLOW');
  if (allow !== undefined) return { effect: 'allow', reason: 'policy_allow', by: allow };
  if (policies.some((t) => t.action === 'ALLOW')) return { effect: 'deny', reason: 'default_deny' };
  return options.defaultAction === 'ALLOW'
    ? { effect: 'allow', reason: 'default_allow' }
    : { effect: 'deny', reason: 'default_deny' };
}

function firstOf(policies: readonly PolicyTrace[], action: PolicyAction): PolicyRef | undefined {
  for (const policy of policies) {
    if (policy.action !== action) continue;
    const ref = firstMatch(policy);
    if (ref !== undefined) return ref;
  }
  return undefined;
}

/** The first matched rule of a policy, as a PolicyRef. */
function firstMatch(policy: PolicyTrace): PolicyRef | undefined {
  const rule = policy.rules.find((r) => r.matched);
  return rule === undefined ? undefined : { policy: policy.id, rule: rule.index };
}
