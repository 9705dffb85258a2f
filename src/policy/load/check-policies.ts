/** `meshwarden check`: load, and say whether the set of policies can be served. */
import { countRules } from '../model.js';
import { loadPolicies } from './load-policies.js';
import type { LoadOptions } from './parse-policy-text.js';
import { formatPolicyError, type PolicyError } from './policy-error.js';

export interface CheckResult {
  /** True when there is no error (warnings do not fail a check). */
  readonly ok: boolean;
  readonly errors: readonly PolicyError[];
  readonly warnings: readonly PolicyError[];
  readonly policyCount: number;
  readonly ruleCount: number;
}

export type CheckOutputFormat = 'human' | 'json';

export async function checkPolicies(paths: readonly string[], options: LoadOptions): Promise<CheckResult> {
  const loaded = await loadPolicies(paths, options);
  return Object.freeze({
    ok: loaded.errors.length === 0,
    errors: loaded.errors,
    warnings: loaded.warnings,
    policyCount: loaded.policies.length,
    ruleCount: countRules(loaded.policies),
  });
}

/** Human: one `file:line:col: message (field)` line per problem, then a summary. JSON: the result. */
export function formatCheckResult(result: CheckResult, format: CheckOutputFormat): string {
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  const lines = [
    ...result.errors.map((e) => formatPolicyError({ ...e, message: `error: ${e.message}` })),
    ...result.warnings.map((w) => formatPolicyError({ ...w, message: `warning: ${w.message}` })),
    summary(result),
  ];
  return `${lines.join('\n')}\n`;
}

function summary(r: CheckResult): string {
  const counts = `${plural(r.policyCount, 'policy', 'policies')}, ${plural(r.ruleCount, 'rule', 'rules')}`;
  const problems = `${plural(r.errors.length, 'error', 'errors')}, ${plural(r.warnings.length, 'warning', 'warnings')}`;
  return `${r.ok ? 'ok' : 'failed'}: ${counts}; ${problems}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
