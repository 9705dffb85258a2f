/**
 * Whether a policy applies to a request's destination, and why, written naively:
 * services (any matches), namespace (must equal; the root namespace means everywhere),
 * selector (every label equals the context extension; none present: only a DENY applies).
 */
import type { AccessRequest } from '../../../domain/index.js';
import type { EngineOptions, Policy } from '../../model.js';
import type { Destination } from '../destination.js';
import { leafMatches } from './leaf.js';

export interface ScopeResult {
  readonly applies: boolean;
  readonly why: string;
}

export function checkScope(policy: Policy, options: EngineOptions, destination: Destination, request: AccessRequest): ScopeResult {
  const reasons: string[] = [];
  const { services, namespace, selector } = policy.scope;
  if (services !== undefined && services.length > 0) {
    const service = destination.service;
    const hit = service !== undefined && services.some((s) => leafMatches('string', s, service));
    if (!hit) return no(`service ${show(service)} not in ${JSON.stringify(services)}`);
    reasons.push(`service ${show(service)} in scope`);
  }
  if (namespace !== undefined && namespace !== options.rootNamespace) {
    if (destination.namespace !== namespace) return no(`namespace ${show(destination.namespace)} is not "${namespace}"`);
    reasons.push(`namespace "${namespace}"`);
  }
  if (selector !== undefined && Object.keys(selector).length > 0) {
    const result = checkSelector(selector, policy.action === 'DENY', request);
    if (!result.applies) return result;
    reasons.push(result.why);
  }
  return { applies: true, why: reasons.length === 0 ? 'applies to every destination' : reasons.join(', ') };
}

function checkSelector(selector: Readonly<Record<string, string>>, isDeny: boolean, request: AccessRequest): ScopeResult {
  const labels = Object.entries(selector);
  const present = labels.filter(([key]) => request.contextExtensions.has(key));
  if (present.length === 0) {
    return isDeny
      ? { applies: true, why: 'selector: request carries none of its labels, a DENY applies (safe side)' }
      : no('selector: request carries none of its labels, only a DENY would apply (safe side)');
  }
  for (const [key, value] of labels) {
    const actual = request.contextExtensions.get(key);
    if (actual !== value) return no(`selector: ${key}=${show(actual)}, wants "${value}"`);
  }
  return { applies: true, why: 'selector labels equal' };
}

function no(why: string): ScopeResult {
  return { applies: false, why };
}

function show(value: string | undefined): string {
  return value === undefined ? '<absent>' : JSON.stringify(value);
}
