/**
 * The policies filed under one destination key (a service, a namespace, or everywhere):
 * which of them always apply there, which need a per-request scope check, and the
 * index of their rules (the bucket is its own RuleIndex: one object fewer to reach).
 */
import { Slot, type CompiledPolicy } from './compiled-rule.js';
import { RuleIndex } from './rule-index.js';

/** What a tree keeps of a bucket in one byte, so most evaluations never touch the Bucket. */
export const BucketFlags = Object.freeze({
  EnforcedAllow: 1,
  AnyAllow: 2,
  DryRun: 4,
  /** Residual scopes, rules for any principal, or principal lists too long for the table. */
  Visit: 8,
  /** The principal table holds a list of this bucket's rules for any principal. */
  AnyPrincipal: 16,
} as const);

export class Bucket extends RuleIndex {
  /** Policies whose scope needs a check per request; undefined when none (the usual case). */
  residual: CompiledPolicy[] | undefined;
  /** Whether an enforced ALLOW always applies here (then a non-matching request is denied). */
  enforcedAllow = false;
  /** Same over enforced and dry-run ALLOWs, for the dry-run outcome. */
  anyAllow = false;
  /** Whether a dry-run policy always applies here (then the outcome reports dry-run). */
  dryRun = false;

  /** Builds a bucket in one go, so its index sits together in memory; the caller seals it. */
  static of(policies: readonly CompiledPolicy[], smallList?: number): Bucket {
    const bucket = new Bucket(smallList);
    for (const policy of policies) bucket.#add(policy);
    return bucket;
  }

  get flags(): number {
    let flags = 0;
    if (this.enforcedAllow) flags |= BucketFlags.EnforcedAllow;
    if (this.anyAllow) flags |= BucketFlags.AnyAllow;
    if (this.dryRun) flags |= BucketFlags.DryRun;
    if (this.residual !== undefined || !this.isEmpty) flags |= BucketFlags.Visit;
    return flags;
  }

  #add(policy: CompiledPolicy): void {
    if (policy.residual !== undefined) (this.residual ??= []).push(policy);
    else this.#markApplies(policy);
    // A dry-run AUDIT rule decides nothing: only its policy's applicability counts.
    for (const rule of policy.rules) if (rule.slot !== Slot.None) this.add(rule);
  }

  #markApplies({ policy }: CompiledPolicy): void {
    const isAllow = policy.action === 'ALLOW';
    if (isAllow && policy.mode === 'enforce') this.enforcedAllow = true;
    if (isAllow) this.anyAllow = true;
    if (policy.mode === 'dry-run') this.dryRun = true;
  }
}
