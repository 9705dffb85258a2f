/**
 * `coverage`: least privilege over time, from a decision log replayed against the policies.
 * Rules no logged request matched are candidates to remove; an ALLOW rule far broader than
 * its use (a wildcard source used by a few workloads, wildcard paths used on a few paths) is
 * shown with the narrower rule `learn` would write from the very requests that used it.
 */
import type { Policy, Rule } from '../../policy/index.js';
import type { DecisionRecord } from '../decision-log-reader.js';
import { learnPolicies, type LearnedRule } from '../learn-policies.js';
import { collectFlows } from '../observed-flows.js';
import type { PolicySet } from '../policy-set.js';
import { replayRequest } from '../replay.js';
import { ruleUsage, type RuleUsage } from './rule-usage.js';

/** At most this many distinct callers or paths makes a wildcard "far broader than used". */
export const FEW = 3;

export type Breadth = 'source' | 'paths';

export interface BroadRule {
  readonly usage: RuleUsage;
  readonly breadth: readonly Breadth[];
  /** The rule learn writes from the requests that used it, one per calling workload. */
  readonly narrower: readonly LearnedRule[];
}

export interface LogCoverage {
  readonly requests: number;
  readonly rules: number;
  readonly unused: readonly RuleUsage[];
  readonly broad: readonly BroadRule[];
}

export function logCoverage(set: PolicySet, records: readonly DecisionRecord[]): LogCoverage {
  const usages = ruleUsage(set, records.map(replayRequest));
  const unused = usages.filter((u) => u.requests === 0);
  const broad: BroadRule[] = [];
  for (const usage of usages) {
    if (usage.requests === 0 || usage.policy.action !== 'ALLOW') continue;
    const rule = usage.policy.rules[usage.index]!;
    const breadth: Breadth[] = [];
    if (wideSource(rule) && usage.callers.size <= FEW && !usage.callers.has('<none>')) breadth.push('source');
    if (widePaths(rule) && usage.paths.size <= FEW) breadth.push('paths');
    if (breadth.length > 0) broad.push({ usage, breadth, narrower: learnedFrom(usage, records) });
  }
  return { requests: records.length, rules: usages.length, unused, broad };
}

/** Anyone, any workload, a namespace, or a principal pattern: more than named workloads. */
function wideSource(rule: Rule): boolean {
  if (rule.from === undefined || rule.from.length === 0) return true;
  return rule.from.some((s) => (s.principals === undefined || s.principals.length === 0 || s.principals.some((p) => p.includes('*'))));
}

/** No path constraint, or a pattern (prefix, suffix, template) rather than exact paths. */
function widePaths(rule: Rule): boolean {
  if (rule.to === undefined || rule.to.length === 0) return true;
  return rule.to.some((o) => o.paths === undefined || o.paths.length === 0 || o.paths.some((p) => p.includes('*') || p.includes('{')));
}

function learnedFrom(usage: RuleUsage, records: readonly DecisionRecord[]): LearnedRule[] {
  const used = usage.matchedBy.map((i) => records[i]!);
  const { flows } = collectFlows(used, { includeDefaultDenied: true });
  return learnPolicies(flows, 'enforce').flatMap((p) => p.rules);
}

export function ruleLocation(policy: Policy, index: number): string {
  return `${policy.id} rules[${index}] (${policy.origin.file}:${policy.origin.line})`;
}
