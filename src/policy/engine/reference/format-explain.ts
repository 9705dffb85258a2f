/** An explain trace as text for people (the CLI prints this). */
import type { Evaluation } from '../../evaluation.js';
import type { ExplainTrace, PolicyTrace, RuleTrace } from './explain.js';
import type { ClauseFailure } from './rule-check.js';

export function formatExplain(trace: ExplainTrace): string {
  const { service, namespace } = trace.destination;
  const lines = [`destination: service ${show(service)}, namespace ${show(namespace)}`];
  if (trace.policies.length === 0) lines.push('no policies');
  for (const policy of trace.policies) lines.push(...formatPolicy(policy));
  lines.push(`decision: ${formatEvaluation(trace.evaluation)}`);
  return lines.join('\n');
}

function formatPolicy(policy: PolicyTrace): string[] {
  const mode = policy.mode === 'dry-run' ? ' (dry-run)' : '';
  const head = `${policy.applies ? '●' : '○'} ${policy.id} ${policy.action}${mode}: ${policy.applies ? 'applies' : 'does not apply'} (${policy.scope})`;
  if (policy.applies && policy.rules.length === 0) return [head, '    no rules: matches nothing'];
  return [head, ...policy.rules.map(formatRule)];
}

function formatRule(rule: RuleTrace): string {
  if (rule.matched) return `    rules[${rule.index}]: matched`;
  const failures = [rule.failure, ...(rule.failure.others ?? [])];
  return `    rules[${rule.index}]: no match: ${failures.map(formatFailure).join('; ')}`;
}

export function formatFailure(failure: ClauseFailure): string {
  const actual = failure.withheld !== undefined ? `<${failure.withheld}>` : failure.actual === undefined ? '<absent>' : failure.actual.map((v) => JSON.stringify(v)).join(', ');
  const relation = failure.negated ? 'in' : 'not in';
  return `${failure.clause}: ${actual} ${relation} ${JSON.stringify(failure.expected)}`;
}

function formatEvaluation(evaluation: Evaluation): string {
  const parts = [`${evaluation.effect} (${evaluation.reason}${ref(evaluation.by)})`];
  if (evaluation.audit !== undefined) parts.push(`audit${ref(evaluation.audit)}`);
  if (evaluation.dryRun !== undefined) parts.push(`dry-run: ${evaluation.dryRun.verdict}${ref(evaluation.dryRun.by)}`);
  return parts.join(', ');
}

function ref(by: { readonly policy: string; readonly rule?: number } | undefined): string {
  return by === undefined ? '' : ` by ${by.policy} rules[${by.rule ?? '?'}]`;
}

function show(value: string | undefined): string {
  return value === undefined ? '<unknown>' : JSON.stringify(value);
}
