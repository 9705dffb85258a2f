/**
 * Which rules requests match, by the reference trace (every matching rule of every applying
 * policy, not only the one that decided), with what used them: callers, methods, paths. The
 * ground for `coverage` (rules no logged request needs, rules broader than their use) and for
 * `test --coverage` (rules no test case exercises).
 */
import type { AccessRequest, Subject } from '../../domain/index.js';
import { explain, type Policy } from '../../policy/index.js';
import type { PolicySet } from '../policy-set.js';

export interface RuleUsage {
  readonly policy: Policy;
  readonly index: number;
  /** Requests that matched the rule. */
  requests: number;
  /** Calling SPIFFE IDs (or `<none>`), with counts. */
  readonly callers: Map<string, number>;
  readonly methods: Set<string>;
  readonly paths: Set<string>;
  /** Which of the inputs matched it (their positions), for learning a narrower rule from them. */
  readonly matchedBy: number[];
}

export interface Probe {
  readonly subject: Subject;
  readonly request: AccessRequest;
}

/** Every rule of every enforced ALLOW or DENY policy, in policy order, with what matched it. */
export function ruleUsage(set: PolicySet, probes: readonly Probe[]): RuleUsage[] {
  const usages = new Map<string, RuleUsage>();
  for (const policy of set.policies) {
    if (policy.mode !== 'enforce' || policy.action === 'AUDIT') continue;
    policy.rules.forEach((_, index) => usages.set(key(policy.id, index), { policy, index, requests: 0, callers: new Map(), methods: new Set(), paths: new Set(), matchedBy: [] }));
  }
  probes.forEach(({ subject, request }, position) => {
    for (const trace of explain(set.policies, set.options, subject, request).policies) {
      if (!trace.applies) continue;
      for (const rule of trace.rules) {
        const usage = rule.matched ? usages.get(key(trace.id, rule.index)) : undefined;
        if (usage === undefined) continue;
        usage.requests += 1;
        const caller = subject.workload?.uri ?? '<none>';
        usage.callers.set(caller, (usage.callers.get(caller) ?? 0) + 1);
        usage.methods.add(request.method);
        usage.paths.add(request.path);
        usage.matchedBy.push(position);
      }
    }
  });
  return [...usages.values()];
}

function key(policy: string, index: number): string {
  return `${policy}\u0000${index}`;
}
