/**
 * The Evaluation a tree returns, from the accumulated first matches. Evaluations are
 * immutable, so the usual ones (a rule's allow or deny, the default actions) are built
 * once at compile time and shared; only a decision with a dry-run outcome or an audit
 * mark, which names several rules at once, is assembled per call.
 */
import type { DryRunOutcome, PolicyRef } from '../../../domain/index.js';
import type { Evaluation } from '../../evaluation.js';
import { isNone, refAt, type Accumulator } from './accumulator.js';
import { Slot, type CompiledPolicy } from './compiled-rule.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const DEFAULT_DENY: Evaluation = Object.freeze({ effect: 'deny', reason: 'default_deny' });
const DEFAULT_ALLOW: Evaluation = Object.freeze({ effect: 'allow', reason: 'default_allow' });

export class Verdicts {
  readonly refs: readonly PolicyRef[];
  /** By ordinal: the enforced Evaluation when that rule decides (DEFAULT_DENY for rules that never do). */
  readonly #byRule: readonly Evaluation[];
  readonly #defaultAllow: boolean;

  constructor(compiled: readonly CompiledPolicy[], defaultAllow: boolean) {
    const refs: PolicyRef[] = [];
    const byRule: Evaluation[] = [];
    for (const policy of compiled) {
      for (const rule of policy.rules) {
        refs.push(rule.ref);
        byRule.push(ruleEvaluation(rule.slot, rule.ref));
      }
    }
    this.refs = Object.freeze(refs);
    this.#byRule = Object.freeze(byRule);
    this.#defaultAllow = defaultAllow;
  }

  /** DESIGN's order: a matching DENY; a matching ALLOW; deny where ALLOWs applied; the default. */
  decide(state: Accumulator): Evaluation {
    const enforced = this.#outcome(state.enforcedDeny, state.enforcedAllow, state.enforcedAllowApplies);
    if (!state.dryRunApplies && isNone(state.enforcedAudit)) return enforced;
    const result: Mutable<Evaluation> = { effect: enforced.effect, reason: enforced.reason };
    if (enforced.by !== undefined) result.by = enforced.by;
    if (state.dryRunApplies) result.dryRun = this.#dryRun(state);
    const audit = refAt(this.refs, state.enforcedAudit);
    if (audit !== undefined) result.audit = audit;
    return result;
  }

  #outcome(deny: number, allow: number, allowApplies: boolean): Evaluation {
    if (!isNone(deny)) return this.#byRule[deny]!;
    if (!isNone(allow)) return this.#byRule[allow]!;
    return allowApplies || !this.#defaultAllow ? DEFAULT_DENY : DEFAULT_ALLOW;
  }

  #dryRun(state: Accumulator): DryRunOutcome {
    const dry = this.#outcome(state.anyDeny, state.anyAllow, state.anyAllowApplies);
    return dry.by === undefined ? { verdict: dry.effect } : { verdict: dry.effect, by: dry.by };
  }
}

function ruleEvaluation(slot: Slot, by: PolicyRef): Evaluation {
  switch (slot) {
    case Slot.EnforcedDeny:
    case Slot.DryRunDeny:
      return Object.freeze({ effect: 'deny', reason: 'policy_deny', by });
    case Slot.EnforcedAllow:
    case Slot.DryRunAllow:
      return Object.freeze({ effect: 'allow', reason: 'policy_allow', by });
    default:
      return DEFAULT_DENY;
  }
}
