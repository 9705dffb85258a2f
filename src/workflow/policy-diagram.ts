/**
 * The flows policies allow (and deny): for each ALLOW or DENY rule, an edge from each
 * source it names (principal, `ns:` namespace, `user:` request principal, `ip:` block, or
 * `*` for any caller) to each destination it applies to (service, `ns:` namespace, or `*`),
 * labelled with the policy, rule, methods and paths. AUDIT policies decide nothing: left out.
 */
import type { Operation, Policy, Rule, Source } from '../policy/index.js';
import { diagramOf, type DiagramEdge, type FlowDiagram } from './flow-diagram.js';

export const ANY = '*';

export function diagramFromPolicies(policies: readonly Policy[]): FlowDiagram {
  const edges: DiagramEdge[] = [];
  for (const policy of policies) {
    if (policy.action === 'AUDIT') continue;
    const targets = targetsOf(policy);
    policy.rules.forEach((rule, index) => {
      const label = [`${policy.id}[${index}]${policy.mode === 'dry-run' ? ' (dry-run)' : ''}`, ...operationLines(rule)];
      for (const from of sourcesOf(rule)) {
        for (const to of targets) {
          edges.push({ from, to, verdict: policy.action === 'ALLOW' ? 'allow' : 'deny', dryRun: policy.mode === 'dry-run', label });
        }
      }
    });
  }
  return diagramOf(edges);
}

function targetsOf(policy: Policy): string[] {
  const scope = policy.scope;
  if (scope.services !== undefined) return [...scope.services];
  const selector = scope.selector === undefined ? '' : ` ${Object.entries(scope.selector).map(([k, v]) => `${k}=${v}`).join(',')}`;
  if (scope.namespace !== undefined) return [`ns:${scope.namespace}${selector}`];
  return [selector === '' ? ANY : `${ANY}${selector}`];
}

function sourcesOf(rule: Rule): string[] {
  if (rule.from === undefined || rule.from.length === 0) return [ANY];
  return [...new Set(rule.from.flatMap(sourceNames))];
}

function sourceNames(source: Source): string[] {
  const names = [
    ...(source.principals ?? []).map(spiffeForm),
    ...(source.namespaces ?? []).map((ns) => `ns:${ns}`),
    ...(source.requestPrincipals ?? []).map((p) => `user:${p}`),
    ...(source.ipBlocks ?? []).map((ip) => `ip:${ip}`),
    ...(source.remoteIpBlocks ?? []).map((ip) => `ip:${ip}`),
  ];
  return names.length === 0 ? [ANY] : names;
}

/** Istio's `cluster.local/ns/x/sa/y` is the SPIFFE ID `spiffe://cluster.local/…`: one node for both. */
function spiffeForm(principal: string): string {
  return principal.startsWith('spiffe://') || principal.includes('*') ? principal : `spiffe://${principal}`;
}

function operationLines(rule: Rule): string[] {
  const lines = (rule.to ?? []).map(operationLine);
  if (lines.length === 0) lines.push('any request');
  if (rule.when !== undefined && rule.when.length > 0) lines.push(`when ${rule.when.map((c) => c.key).join(', ')}`);
  return lines;
}

function operationLine(operation: Operation): string {
  const methods = operation.methods?.join(' ') ?? (operation.notMethods ? `not ${operation.notMethods.join(' ')}` : 'any method');
  const paths = operation.paths?.join(' ') ?? (operation.notPaths ? `not ${operation.notPaths.join(' ')}` : '');
  return paths === '' ? methods : `${methods} ${paths}`;
}
