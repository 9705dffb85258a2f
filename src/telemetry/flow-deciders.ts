/**
 * Which policy rule (or default, or identity failure) decided the requests of a flow edge,
 * as short names the live map shows: `policy_allow payments-api rules[0]`, `default_deny`,
 * `dry-run deny guest-lockdown rules[1]`. Names only, never a rule's contents.
 */
import type { PolicyRef } from '../domain/index.js';

/** What decided one observed request: the reason code, the enforced rule, the dry-run outcome (the Decision itself fits). */
export interface FlowDecider {
  readonly reason: string;
  readonly by?: PolicyRef | undefined;
  readonly dryRun?: { readonly by?: PolicyRef | undefined } | undefined;
}

/**
 * Compiled rules hand the same PolicyRef object to every decision they make, so a key is
 * built once per rule and snapshot, not per request (the hot path allocates little).
 */
const enforcedKeys = new WeakMap<PolicyRef, Map<string, string>>();
const dryRunKeys = new WeakMap<PolicyRef, string>();

export function enforcedKey(reason: string, by: PolicyRef | undefined): string {
  if (by === undefined) return reason;
  let byReason = enforcedKeys.get(by);
  if (byReason === undefined) enforcedKeys.set(by, (byReason = new Map()));
  let key = byReason.get(reason);
  if (key === undefined) byReason.set(reason, (key = `${reason} ${ruleName(by)}`));
  return key;
}

export function dryRunDenyKey(by: PolicyRef | undefined): string {
  if (by === undefined) return 'dry-run deny';
  let key = dryRunKeys.get(by);
  if (key === undefined) dryRunKeys.set(by, (key = `dry-run deny ${ruleName(by)}`));
  return key;
}

function ruleName(by: PolicyRef): string {
  return by.rule === undefined ? by.policy : `${by.policy} rules[${by.rule}]`;
}
