/**
 * A schema-valid Istio `AuthorizationPolicy` into the Policy model, with Istio's meaning:
 * id `namespace/name`, the root namespace applies everywhere, no rules allows nothing,
 * and the `istio.io/dry-run` annotation makes it dry-run.
 */
import type { Policy, PolicyAction, PolicyOrigin, PolicyScope } from '../model.js';
import { issue, type Findings, type Issue } from './issue.js';
import { normalizeRules } from './normalize-rules.js';
import { isRecord } from './rule-check.js';

const DRY_RUN = 'istio.io/dry-run';

const SELECTOR_ALLOW =
  'an ALLOW with a selector applies only to requests whose context_extensions carry those ' +
  'labels (set per route in Envoy); elsewhere it allows nothing';
const SELECTOR_DENY =
  'a DENY with a selector also applies to requests whose context_extensions carry none of ' +
  'those labels (the safe side)';

export function istioFindings(data: Record<string, unknown>): Findings {
  const spec = isRecord(data['spec']) ? data['spec'] : {};
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  if (spec['action'] === 'CUSTOM') {
    errors.push(issue('custom_action_not_applicable', ['spec', 'action'],
      'action CUSTOM delegates to an external authorizer, and meshwarden is that authorizer: ' +
      'the policy would do nothing here; write the rules as ALLOW or DENY policies instead'));
  } else if (spec['provider'] !== undefined) {
    errors.push(issue('invalid_value', ['spec', 'provider'], 'provider is only valid with action CUSTOM', 'key'));
  }
  const annotation = dryRunAnnotation(data);
  if (annotation !== undefined && annotation !== 'true' && annotation !== 'false') {
    errors.push(issue('invalid_annotation', ['metadata', 'annotations', DRY_RUN], `${DRY_RUN} must be "true" or "false"`));
  }
  for (const field of ['targetRef', 'targetRefs'] as const) {
    if (spec[field] !== undefined) targetRefFinding(field, spec['action'], errors, warnings);
  }
  warnings.push(...selectorWarnings(spec));
  return { errors, warnings };
}

/**
 * targetRef is not implemented, so the policy would apply to its whole namespace scope:
 * wider than Istio applies it. For a DENY that errs on the safe side (a warning); an ALLOW
 * or AUDIT so widened could allow what the author never meant, so it is refused.
 */
function targetRefFinding(field: string, action: unknown, errors: Issue[], warnings: Issue[]): void {
  const at = ['spec', field];
  if (action === 'DENY') {
    const message = `${field} is not supported: this DENY applies to its whole namespace scope, wider than Istio would apply it`;
    warnings.push(issue('target_ref_unsupported', at, message, 'key'));
  } else {
    const message =
      `${field} is not supported: the policy would apply to its whole namespace scope, wider than ` +
      'Istio would apply it; scope it with selector or write a meshwarden.io/v1 policy with target.services';
    errors.push(issue('target_ref_unsupported', at, message, 'key'));
  }
}

function selectorWarnings(spec: Record<string, unknown>): Issue[] {
  if (Object.keys(matchLabels(spec)).length === 0) return [];
  const at = ['spec', 'selector'];
  switch (spec['action'] ?? 'ALLOW') {
    case 'ALLOW':
      return [issue('selector_allow_scoped', at, SELECTOR_ALLOW, 'key')];
    case 'DENY':
      return [issue('selector_deny_unscoped', at, SELECTOR_DENY, 'key')];
    default:
      return [];
  }
}

export function istioPolicy(data: Record<string, unknown>, origin: PolicyOrigin, rootNamespace: string): Policy {
  const metadata = data['metadata'] as Record<string, unknown>;
  const spec = isRecord(data['spec']) ? data['spec'] : {};
  const name = String(metadata['name']);
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : 'default';
  return {
    id: `${namespace}/${name}`,
    name,
    format: 'istio',
    origin,
    action: (spec['action'] as PolicyAction | undefined) ?? 'ALLOW',
    mode: dryRunAnnotation(data) === 'true' ? 'dry-run' : 'enforce',
    scope: istioScope(namespace, rootNamespace, matchLabels(spec)),
    rules: normalizeRules(spec['rules']),
  };
}

function istioScope(namespace: string, rootNamespace: string, labels: Record<string, string>): PolicyScope {
  const scope: { namespace?: string; selector?: Record<string, string> } = {};
  if (namespace !== rootNamespace) scope.namespace = namespace;
  // Istio: an empty matchLabels selects every workload, the same as no selector.
  if (Object.keys(labels).length > 0) scope.selector = labels;
  return scope;
}

function matchLabels(spec: Record<string, unknown>): Record<string, string> {
  const selector = spec['selector'];
  const labels = isRecord(selector) ? selector['matchLabels'] : undefined;
  return isRecord(labels) ? ({ ...labels } as Record<string, string>) : {};
}

function dryRunAnnotation(data: Record<string, unknown>): unknown {
  const metadata = data['metadata'];
  const annotations = isRecord(metadata) ? metadata['annotations'] : undefined;
  return isRecord(annotations) ? annotations[DRY_RUN] : undefined;
}
