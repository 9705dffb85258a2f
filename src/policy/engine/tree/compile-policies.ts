/**
 * Policies → CompiledPolicy values in decision order, recording every attribute they read:
 * once as they read HTTP requests, and once as they read connections (Istio's semantics for
 * TCP, http-only.ts): a rule that names nothing HTTP-only is the same rule there, an ALLOW
 * rule that does never matches a connection, and a DENY or AUDIT rule that does is compiled
 * again without those parts.
 */
import { needsHttp } from '../../http-only.js';
import type { EngineOptions, Policy, PolicyAction, Rule } from '../../model.js';
import type { BodyPaths } from '../body/body-paths.js';
import { compileRule } from '../compile-rule.js';
import { indexed, isSet, rulesSite, type CompileSite } from '../compile-site.js';
import { sortPolicies } from '../policy-order.js';
import type { RequestAttribute } from '../request-attribute.js';
import { SharedMatchers } from '../shared-matchers.js';
import type { CompiledPolicy, CompiledRule } from './compiled-rule.js';
import { slotOf } from './compiled-rule.js';
import { effectiveNamespace, planScope, type ScopePlan } from './compile-scope.js';
import { principalKeys } from './index-keys.js';

export interface CompiledPolicies {
  /** Every policy and rule, as they read HTTP requests; a rule's ordinal is its index in decision order. */
  readonly http: readonly CompiledPolicy[];
  /**
   * The same policies as they read connections, in the same order: each rule as it reads a
   * connection, the rules that never match one left out (the others keep their ordinals).
   */
  readonly connection: readonly CompiledPolicy[];
}

/** `bodyPaths` gathers the body fields the policies read. */
export function compilePolicies(
  policies: readonly Policy[],
  options: EngineOptions,
  reads: Set<RequestAttribute>,
  bodyPaths: BodyPaths,
): CompiledPolicies {
  const shared = new SharedMatchers(bodyPaths);
  const http: CompiledPolicy[] = [];
  const connection: CompiledPolicy[] = [];
  let ordinal = 0;
  sortPolicies(policies).forEach((policy, rank) => {
    const compiled = compilePolicy(policy, rank, ordinal, options, reads, shared);
    ordinal += compiled.http.rules.length;
    http.push(compiled.http);
    connection.push(compiled.connection);
  });
  return Object.freeze({ http: Object.freeze(http), connection: Object.freeze(connection) });
}

function compilePolicy(
  policy: Policy,
  rank: number,
  firstOrdinal: number,
  options: EngineOptions,
  reads: Set<RequestAttribute>,
  shared: SharedMatchers,
): { http: CompiledPolicy; connection: CompiledPolicy } {
  const plan = planScope(policy, options);
  const slot = slotOf(policy);
  const site = rulesSite(policy.id, policy.action, reads, shared);
  const connectionRules: CompiledRule[] = [];
  const rules = policy.rules.map((rule, index): CompiledRule => {
    const { matcher, principalImplied } = compileRule(rule, indexed(site, index), true);
    const compiled: CompiledRule = Object.freeze({
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
    const onConnection = asOnConnection(compiled, policy.action, site, index);
    if (onConnection !== undefined) connectionRules.push(onConnection);
    return compiled;
  });
  addScopeReads(policy, options, reads);
  return { http: compiledPolicy(policy, rank, rules, plan), connection: compiledPolicy(policy, rank, connectionRules, plan) };
}

/**
 * Written out, not spread: a frozen copy made by spreading compiled a third slower at 100,000
 * rules, and both kinds of CompiledPolicy and CompiledRule keep one object shape this way.
 */
function compiledPolicy(policy: Policy, rank: number, rules: CompiledRule[], plan: ScopePlan): CompiledPolicy {
  return Object.freeze({ rank, policy, rules: Object.freeze(rules), placement: plan.placement, residual: plan.residual });
}

/** The rule as it reads a connection; undefined when it never matches one. */
function asOnConnection(rule: CompiledRule, action: PolicyAction, rules: CompileSite, index: number): CompiledRule | undefined {
  const source: Rule = rule.source;
  if (!needsHttp(source)) return rule;
  if (action === 'ALLOW') return undefined;
  const { matcher, principalImplied } = compileRule(source, indexed(rules, index), true, true);
  const { ordinal, policyRank, slot, residual, ref, principalKeys } = rule;
  return Object.freeze({ ordinal, policyRank, slot, residual, matcher, principalImplied, ref, principalKeys, source });
}

function addScopeReads(policy: Policy, options: EngineOptions, reads: Set<RequestAttribute>): void {
  const { services, selector } = policy.scope;
  if (isSet(services)) reads.add('destination.service');
  if (effectiveNamespace(policy.scope, options) !== undefined) reads.add('destination.namespace');
  for (const key of Object.keys(selector ?? {})) reads.add(`context:${key}`);
}
