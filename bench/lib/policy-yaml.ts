/** Writes generated policies as meshwarden.io/v1 documents (JSON is YAML), for `meshwarden serve`. */
import type { Policy, Rule } from '../../src/policy/model.js';

export function policiesYaml(policies: readonly Policy[]): string {
  return policies.map((p) => JSON.stringify(document(p))).join('\n---\n');
}

function document(p: Policy): Record<string, unknown> {
  const spec: Record<string, unknown> = { action: p.action, rules: p.rules.map(rule) };
  if (p.scope.services) spec['target'] = { services: p.scope.services };
  return { apiVersion: 'meshwarden.io/v1', kind: 'AuthorizationPolicy', metadata: { name: p.name.replace(/[^a-z0-9-]/g, '-') }, spec };
}

function rule(r: Rule): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.from) out['from'] = r.from.map((source) => ({ source }));
  if (r.to) out['to'] = r.to.map((operation) => ({ operation }));
  if (r.when) out['when'] = r.when;
  return out;
}
