/**
 * One YAML document into one Policy: envelope (apiVersion, kind), then the schema of that
 * format, then the semantic checks; every problem found is reported, and the Policy is
 * built only when there is no error.
 */
import type { Policy, PolicyOrigin } from '../model.js';
import { issue, type Findings, type Issue } from './issue.js';
import { istioFindings, istioPolicy } from './istio-policy.js';
import { nativeFindings, nativePolicy } from './native-policy.js';
import { policyValidators } from './policy-schema.js';
import { unknownMethodWarnings } from './method-check.js';
import { isRecord, rulesIssues } from './rule-check.js';
import { schemaIssues } from './schema-issues.js';

type Format = 'native' | 'istio';

const API_VERSIONS: Readonly<Record<string, Format>> = {
  'meshwarden.io/v1': 'native',
  'security.istio.io/v1': 'istio',
  'security.istio.io/v1beta1': 'istio',
};

export interface DocumentResult extends Findings {
  readonly policy?: Policy;
}

export function readPolicyDocument(data: unknown, origin: PolicyOrigin, rootNamespace: string): DocumentResult {
  if (!isRecord(data)) {
    const message = 'a policy document must be a mapping with apiVersion, kind, metadata and spec';
    return { errors: [issue('wrong_type', [], message)], warnings: [] };
  }
  const envelope = envelopeIssues(data);
  if (typeof envelope === 'object') return { errors: envelope, warnings: [] };
  const format = envelope;
  const validate = format === 'native' ? policyValidators().native : policyValidators().istio;
  const errors = validate(data) ? [] : schemaIssues(validate.errors ?? [], data);
  errors.push(...rulesIssues(isRecord(data['spec']) ? data['spec']['rules'] : undefined, ['spec', 'rules']));
  const specific = format === 'native' ? nativeFindings(data) : istioFindings(data);
  errors.push(...specific.errors);
  const warnings = [...specific.warnings, ...unknownMethodWarnings(isRecord(data['spec']) ? data['spec']['rules'] : undefined, ['spec', 'rules'])];
  if (errors.length > 0) return { errors, warnings };
  const policy = format === 'native' ? nativePolicy(data, origin) : istioPolicy(data, origin, rootNamespace);
  return { errors, warnings, policy };
}

/** The document's format, or why it is not a policy we know (then nothing else is checked). */
function envelopeIssues(data: Record<string, unknown>): Format | Issue[] {
  const { apiVersion, kind } = data;
  const issues: Issue[] = [];
  if (apiVersion === undefined) issues.push(issue('missing_field', ['apiVersion'], 'missing required field "apiVersion"'));
  else if (typeof apiVersion !== 'string' || !Object.hasOwn(API_VERSIONS, apiVersion)) {
    issues.push(issue('unknown_api_version', ['apiVersion'],
      `unknown apiVersion ${JSON.stringify(apiVersion)}: expected ${Object.keys(API_VERSIONS).join(', ')}`));
  }
  if (kind === undefined) issues.push(issue('missing_field', ['kind'], 'missing required field "kind"'));
  else if (kind !== 'AuthorizationPolicy') {
    issues.push(issue('unknown_kind', ['kind'], `unknown kind ${JSON.stringify(kind)}: expected AuthorizationPolicy`));
  }
  return issues.length > 0 ? issues : API_VERSIONS[apiVersion as string]!;
}
