/**
 * How `meshwarden test` reports: one line per case, and for a failure the expected and
 * actual outcome as a two-line diff that names the policy and rule that decided.
 */
import type { CaseResult, Outcome, RunResult } from './run-cases.js';
import type { Expectation } from './test-cases.js';

export function formatRunHuman(run: RunResult): string {
  const lines: string[] = [];
  for (const result of run.results) lines.push(...formatCase(result));
  lines.push(`${run.failed === 0 ? 'ok' : 'FAILED'}: ${run.passed} passed, ${run.failed} failed`);
  return `${lines.join('\n')}\n`;
}

function formatCase(result: CaseResult): string[] {
  const c = result.case;
  if (result.mismatches.length === 0) return [`PASS ${c.name}`];
  return [`FAIL ${c.name} (${c.file}:${c.line}:${c.column})`, ...caseDiff(result).map((line) => `  ${line}`)];
}

/** `- expected: …` / `+ actual: …`, the fields the case names first, then who decided. */
export function caseDiff(result: CaseResult): string[] {
  return [`- expected: ${describeExpectation(result.case.expect)}`, `+ actual:   ${describeOutcome(result.actual)}`];
}

export function describeExpectation(expect: Expectation): string {
  const parts: string[] = [expect.decision];
  if (expect.reason !== undefined) parts.push(`(${expect.reason})`);
  if (expect.policy !== undefined) parts.push(`by ${expect.policy}${expect.rule === undefined ? '' : ` rule ${expect.rule}`}`);
  else if (expect.rule !== undefined) parts.push(`by rule ${expect.rule}`);
  if (expect.dryRun !== undefined) parts.push(`dry-run ${expect.dryRun}`);
  return parts.join(' ');
}

export function describeOutcome(outcome: Outcome): string {
  const parts: string[] = [outcome.decision, `(${outcome.reason})`];
  if (outcome.policy !== undefined) parts.push(`by ${outcome.policy}${outcome.rule === undefined ? '' : ` rule ${outcome.rule}`}`);
  if (outcome.dryRun !== undefined) {
    parts.push(`dry-run ${outcome.dryRun}${outcome.dryRunPolicy === undefined ? '' : ` by ${outcome.dryRunPolicy}`}`);
  }
  return parts.join(' ');
}

export function formatRunJson(run: RunResult): string {
  const cases = run.results.map((r) => ({
    name: r.case.name,
    file: r.case.file,
    line: r.case.line,
    column: r.case.column,
    ok: r.mismatches.length === 0,
    mismatches: r.mismatches,
    expected: r.case.expect,
    actual: r.actual,
  }));
  return `${JSON.stringify({ ok: run.failed === 0, passed: run.passed, failed: run.failed, cases }, null, 2)}\n`;
}
