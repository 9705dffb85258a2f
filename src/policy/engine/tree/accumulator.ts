/**
 * The per-evaluation state of a DecisionTree: the first (smallest-ordinal) matching rule
 * of each kind, and which ALLOW and dry-run policies applied. One instance is reused by
 * its tree (evaluation is synchronous), so an evaluation allocates almost nothing.
 */
import type { PolicyRef } from '../../../domain/index.js';
import type { MatchContext } from '../matchers/match-context.js';
import type { Matcher } from '../matchers/matcher.js';
import { BucketFlags, type Bucket } from './bucket.js';
import { Slot, type CompiledPolicy, type CompiledRule, type RuleVisitor } from './compiled-rule.js';

const NONE = Number.POSITIVE_INFINITY;

export class Accumulator implements RuleVisitor {
  /** The tree's one context, reset per evaluation. */
  readonly ctx: MatchContext;
  enforcedDeny = NONE;
  enforcedAllow = NONE;
  enforcedAudit = NONE;
  /** Over enforced and dry-run rules together, for the dry-run outcome. */
  anyDeny = NONE;
  anyAllow = NONE;
  enforcedAllowApplies = false;
  anyAllowApplies = false;
  dryRunApplies = false;
  #epoch = 0;
  /** `applied[rank] === epoch`: that policy's residual scope held for this request. */
  readonly #applied: Int32Array;

  constructor(policyCount: number, ctx: MatchContext) {
    this.#applied = new Int32Array(policyCount);
    this.ctx = ctx;
  }

  reset(): void {
    this.enforcedDeny = this.enforcedAllow = this.enforcedAudit = this.anyDeny = this.anyAllow = NONE;
    this.enforcedAllowApplies = this.anyAllowApplies = this.dryRunApplies = false;
    // Wrapping after 2^31 evaluations would only matter if a stale stamp equalled the new epoch.
    this.#epoch = (this.#epoch + 1) | 0;
    if (this.#epoch === 0) this.#applied.fill(-1);
  }

  /** A bucket's policies that always apply there (BucketFlags). */
  applies(flags: number): void {
    if ((flags & BucketFlags.EnforcedAllow) !== 0) this.enforcedAllowApplies = true;
    if ((flags & BucketFlags.AnyAllow) !== 0) this.anyAllowApplies = true;
    if ((flags & BucketFlags.DryRun) !== 0) this.dryRunApplies = true;
  }

  /** The bucket's residual scopes, then the rules its own index holds; before the principal table's. */
  visit(bucket: Bucket): void {
    const residual = bucket.residual;
    if (residual !== undefined) this.#checkScopes(residual);
    bucket.collect(this.ctx, this);
  }

  #checkScopes(residual: readonly CompiledPolicy[]): void {
    for (let i = 0; i < residual.length; i += 1) {
      const compiled = residual[i]!;
      if (!compiled.residual!(this.ctx)) continue;
      this.#applied[compiled.rank] = this.#epoch;
      const { action, mode } = compiled.policy;
      if (action === 'ALLOW') {
        this.anyAllowApplies = true;
        if (mode === 'enforce') this.enforcedAllowApplies = true;
      }
      if (mode === 'dry-run') this.dryRunApplies = true;
    }
  }

  consider(rule: CompiledRule): void {
    this.offer(rule.ordinal, rule.slot, rule.residual, rule.policyRank, rule.matcher);
  }

  /** One candidate rule, as a CompiledRule holds it or as the principal table packs it. */
  offer(ordinal: number, slot: Slot, residual: boolean, policyRank: number, matcher: Matcher): void {
    if (residual && this.#applied[policyRank] !== this.#epoch) return;
    switch (slot) {
      case Slot.EnforcedDeny:
        if (ordinal < this.enforcedDeny && matcher.matches(this.ctx)) {
          this.enforcedDeny = ordinal;
          this.anyDeny = Math.min(this.anyDeny, ordinal);
        }
        return;
      case Slot.EnforcedAllow:
        if (ordinal < this.enforcedAllow && matcher.matches(this.ctx)) {
          this.enforcedAllow = ordinal;
          this.anyAllow = Math.min(this.anyAllow, ordinal);
        }
        return;
      case Slot.EnforcedAudit:
        if (ordinal < this.enforcedAudit && matcher.matches(this.ctx)) this.enforcedAudit = ordinal;
        return;
      case Slot.DryRunDeny:
        if (ordinal < this.anyDeny && matcher.matches(this.ctx)) this.anyDeny = ordinal;
        return;
      case Slot.DryRunAllow:
        if (ordinal < this.anyAllow && matcher.matches(this.ctx)) this.anyAllow = ordinal;
        return;
      case Slot.None:
        return;
    }
  }
}

export function refAt(refs: readonly PolicyRef[], ordinal: number): PolicyRef | undefined {
  return ordinal === NONE ? undefined : refs[ordinal];
}

export function isNone(ordinal: number): boolean {
  return ordinal === NONE;
}
