/** A schema-valid `meshwarden.io/v1` document into the Policy model. */
import type { Policy, PolicyAction, PolicyMode, PolicyOrigin, PolicyScope } from '../model.js';
import { issue, type Findings } from './issue.js';
import { normalizeRules } from './normalize-rules.js';
import { isRecord } from './rule-check.js';

export function nativeFindings(data: Record<string, unknown>): Findings {
  const spec = isRecord(data['spec']) ? data['spec'] : {};
  const rules = spec['rules'];
  if (rules !== undefined && !(Array.isArray(rules) && rules.length === 0)) return { errors: [], warnings: [] };
  const at = rules === undefined ? ['spec'] : ['spec', 'rules'];
  return { errors: [], warnings: [issue('no_rules', at, 'the policy has no rules, so it matches no request')] };
}

export function nativePolicy(data: Record<string, unknown>, origin: PolicyOrigin): Policy {
  const metadata = data['metadata'] as Record<string, unknown>;
  const spec = isRecord(data['spec']) ? data['spec'] : {};
  const name = String(metadata['name']);
  return {
    id: name,
    name,
    format: 'meshwarden',
    origin,
    action: (spec['action'] as PolicyAction | undefined) ?? 'ALLOW',
    mode: (spec['mode'] as PolicyMode | undefined) ?? 'enforce',
    scope: nativeScope(spec['target']),
    rules: normalizeRules(spec['rules']),
  };
}

function nativeScope(target: unknown): PolicyScope {
  const services = isRecord(target) ? target['services'] : undefined;
  return Array.isArray(services) ? { services: services.map((s: unknown) => String(s)) } : {};
}
