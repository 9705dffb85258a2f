/**
 * Splits a policy's scope into what the index can file it under (exact services, or a
 * namespace) and a residual per-request check for the rest (selector, service patterns,
 * a namespace next to services). Scope semantics are DESIGN's; see reference/scope.ts
 * for the same rules written naively.
 */
import type { EngineOptions, Policy, PolicyScope } from '../../model.js';
import { isSet } from '../compile-site.js';
import { compileStringSet } from '../matchers/string-match.js';
import type { Placement, ScopeCheck } from './compiled-rule.js';

export interface ScopePlan {
  readonly placement: Placement;
  readonly residual: ScopeCheck | undefined;
}

export function planScope(policy: Policy, options: EngineOptions): ScopePlan {
  const { services, selector } = policy.scope;
  const namespace = effectiveNamespace(policy.scope, options);
  const exactServices = isSet(services) && services.every((s) => !s.includes('*'));
  const checks: ScopeCheck[] = [];
  let placement: Placement = EVERYWHERE;
  if (exactServices) placement = Object.freeze({ kind: 'services', services: Object.freeze([...new Set(services)]) });
  else if (isSet(services)) checks.push(serviceCheck(services));
  if (namespace !== undefined) {
    if (placement.kind === 'everywhere' && !isSet(services)) placement = Object.freeze({ kind: 'namespace', namespace });
    else checks.push((ctx) => ctx.namespace === namespace);
  }
  if (selector !== undefined && Object.keys(selector).length > 0) checks.push(selectorCheck(selector, policy.action === 'DENY'));
  return Object.freeze({ placement, residual: combine(checks) });
}

const EVERYWHERE: Placement = Object.freeze({ kind: 'everywhere' });

/** A policy in the root namespace applies everywhere, as in Istio. */
export function effectiveNamespace(scope: PolicyScope, options: EngineOptions): string | undefined {
  return scope.namespace === undefined || scope.namespace === options.rootNamespace ? undefined : scope.namespace;
}

function serviceCheck(services: readonly string[]): ScopeCheck {
  const matcher = compileStringSet(services);
  return (ctx) => ctx.service !== undefined && matcher.matches(ctx.service);
}

/**
 * Every label must equal the context extension of the same name. A request carrying none
 * of the labels cannot be placed: a DENY applies anyway and an ALLOW or AUDIT does not,
 * the safe side each time.
 */
function selectorCheck(selector: Readonly<Record<string, string>>, isDeny: boolean): ScopeCheck {
  const labels = Object.freeze(Object.entries(selector));
  return (ctx) => {
    const extensions = ctx.request.contextExtensions;
    let present = 0;
    let equal = 0;
    for (let i = 0; i < labels.length; i += 1) {
      const [key, value] = labels[i]!;
      const actual = extensions.get(key);
      if (actual === undefined) continue;
      present += 1;
      if (actual === value) equal += 1;
    }
    return present === 0 ? isDeny : equal === labels.length;
  };
}

function combine(checks: readonly ScopeCheck[]): ScopeCheck | undefined {
  if (checks.length === 0) return undefined;
  if (checks.length === 1) return checks[0];
  return (ctx) => {
    for (let i = 0; i < checks.length; i += 1) if (!checks[i]!(ctx)) return false;
    return true;
  };
}
