/** Policies → CompiledPolicy values in decision order, recording every attribute they read. */
import type { EngineOptions, Policy } from '../../model.js';
import type { BodyPaths } from '../body/body-paths.js';
import { compileRule } from '../compile-rule.js';
import { indexed, isSet, rulesSite } from '../compile-site.js';
import { sortPolicies } from '../policy-order.js';
import type { RequestAttribute } from '../request-attribute.js';
import { SharedMatchers } from '../shared-matchers.js';
import type { CompiledPolicy, CompiledRule } from './compiled-rule.js';
import { slotOf } from './compiled-rule.js';
import { effectiveNamespace, planScope } from './compile-scope.js';
import { principalKeys } from './index-keys.js';

/** `bodyPaths` gathers the body fields the policies read. */
export function compilePolicies(
  policies: readonly Policy[],
  options: EngineOptions,
  reads: Set<RequestAttribute>,
  bodyPaths: BodyPaths,
): readonly CompiledPolicy[] {
  const shared = new SharedMatchers(bodyPaths);
  let ordinal = 0;
  return Object.freeze(
    sortPolicies(policies).map((policy, rank) => {
      const compiled = compilePolicy(policy, rank, ordinal, options, reads, shared);
      ordinal += compiled.rules.length;
      return compiled;
    }),
  );
}

function compilePolicy(
  policy: Policy,
  rank: number,
  firstOrdinal: number,
  options: EngineOptions,
  reads: Set<RequestAttribute>,
  shared: SharedMatchers,
): CompiledPolicy {
  const plan = planScope(policy, options);
  const slot = slotOf(policy);
  const site = rulesSite(policy.id, policy.action, reads, shared);
  const rules = policy.rules.map((rule, index): CompiledRule => {
    const { matcher, principalImplied } = compileRule(rule, indexed(site, index), true);
    return Object.freeze({
      ordinal: firstOrdinal + index,
      policyRank: rank,
      slot,
      residual: plan.residual !== undefined,
      matcher,
      principalImplied,
      ref: Object.freeze({ policy: policy.id, rule: index }),
      principalKeys: principalKeys(rule, shared),
      source: rule,
    });
  });
  addScopeReads(policy, options, reads);
  return Object.freeze({ rank, policy, rules: Object.freeze(rules), placement: plan.placement, residual: plan.residual });
}

function addScopeReads(policy: Policy, options: EngineOptions, reads: Set<RequestAttribute>): void {
  const { services, selector } = policy.scope;
  if (isSet(services)) reads.add('destination.service');
  if (effectiveNamespace(policy.scope, options) !== undefined) reads.add('destination.namespace');
  for (const key of Object.keys(selector ?? {})) reads.add(`context:${key}`);
}
