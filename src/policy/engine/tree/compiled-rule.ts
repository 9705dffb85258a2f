/**
 * The compiled form of policies and rules. A rule's `ordinal` is its place in the one
 * deterministic decision order (policy id, then rule index): the first match of a kind
 * is the one with the smallest ordinal, whatever order the index visits rules in.
 */
import type { PolicyRef } from '../../../domain/index.js';
import type { Policy, Rule } from '../../model.js';
import type { MatchContext } from '../matchers/match-context.js';
import type { Matcher } from '../matchers/matcher.js';

/** Which outcome a matching rule can decide; dry-run AUDIT decides nothing and is not indexed. */
export const Slot = Object.freeze({
  EnforcedDeny: 0,
  EnforcedAllow: 1,
  EnforcedAudit: 2,
  DryRunDeny: 3,
  DryRunAllow: 4,
  None: 5,
} as const);
export type Slot = (typeof Slot)[keyof typeof Slot];

export interface CompiledRule {
  readonly ordinal: number;
  readonly policyRank: number;
  readonly slot: Slot;
  /** True when the policy's scope needs a per-request check before its rules count. */
  readonly residual: boolean;
  readonly matcher: Matcher;
  /**
   * `matcher` leaves out `from`, which named exact principals only (CompiledMatcher): the
   * rule is filed under each of `principalKeys` and nowhere else, so it holds there.
   */
  readonly principalImplied: boolean;
  readonly ref: PolicyRef;
  /** The principals a RuleIndex files the rule under; undefined: any principal. */
  readonly principalKeys: readonly string[] | undefined;
  /** Read only to file the rule in a path trie. */
  readonly source: Rule;
}

export type ScopeCheck = (ctx: MatchContext) => boolean;

export interface CompiledPolicy {
  readonly rank: number;
  readonly policy: Policy;
  readonly rules: readonly CompiledRule[];
  /** Where the index files the policy; the rest of its scope is `residual`. */
  readonly placement: Placement;
  readonly residual: ScopeCheck | undefined;
}

export type Placement =
  | { readonly kind: 'services'; readonly services: readonly string[] }
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'everywhere' };

/** Visits candidate rules; the index never decides, it only narrows. */
export interface RuleVisitor {
  consider(rule: CompiledRule): void;
}

export function slotOf(policy: Policy): Slot {
  const enforced = policy.mode === 'enforce';
  switch (policy.action) {
    case 'DENY': return enforced ? Slot.EnforcedDeny : Slot.DryRunDeny;
    case 'ALLOW': return enforced ? Slot.EnforcedAllow : Slot.DryRunAllow;
    case 'AUDIT': return enforced ? Slot.EnforcedAudit : Slot.None;
  }
}
