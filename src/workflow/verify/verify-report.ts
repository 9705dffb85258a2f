/**
 * verify's results for people (each invariant proven or refuted, the counterexample and the
 * command that reproduces it with explain), for machines (JSON), and for CI (JUnit XML).
 */
import { destinationLabel } from '../../policy/index.js';
import { escapeXml } from '../junit.js';
import { clauseText, ruleText } from '../reach/index.js';
import type { Counterexample, InvariantResult } from './prove.js';

const MARK = { proven: '✓', refuted: '✗', undecided: '?' } as const;

export function formatVerifyHuman(results: readonly InvariantResult[], policyPaths: readonly string[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const where = `${r.invariant.file}:${r.invariant.line}`;
    lines.push(`${MARK[r.verdict]} ${r.invariant.name} (${where}): ${r.verdict} over ${r.destinations} destination${r.destinations === 1 ? '' : 's'}`);
    if (r.counterexample !== undefined) lines.push(...counterexampleLines(r.counterexample, policyPaths).map((l) => `    ${l}`));
    if (r.unproven !== undefined) {
      lines.push(`    no request found for ${r.unproven.length} entr${r.unproven.length === 1 ? 'y' : 'ies'} DENY rules may cover only together, e.g. ${ruleText(r.unproven[0]!.allowedBy)} at ${destinationLabel(r.unproven[0]!.destination)}: check by hand`);
    }
  }
  const failed = results.filter((r) => r.verdict !== 'proven').length;
  lines.push('', failed === 0 ? `all ${results.length} invariants proven` : `${failed} of ${results.length} invariants not proven`);
  return `${lines.join('\n')}\n`;
}

function counterexampleLines(c: Counterexample, policyPaths: readonly string[]): string[] {
  const lines = [`counterexample: ${c.why}`];
  if (c.entry !== undefined) {
    const conditions = c.entry.conditions.map(clauseText);
    lines.push(`allowed by ${ruleText(c.entry.allowedBy)}${conditions.length > 0 ? ` when ${conditions.join(' and ')}` : ''}`);
  }
  const policies = policyPaths.map((p) => `--policy ${shellQuote(p)}`).join(' ');
  const user = c.entry?.witness?.subject;
  if (user === undefined) {
    lines.push(`reproduce: echo ${shellQuote(JSON.stringify(c.request))} | meshwarden explain ${policies} --request -`);
  } else {
    // A request file has no end user: the case form carries one.
    const testCase = { name: 'counterexample', request: c.request, subject: user, expect: { decision: 'deny' } };
    lines.push(`reproduce (a test case: the request needs an end user): ${JSON.stringify([testCase])}`);
  }
  return lines;
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function formatVerifyJson(results: readonly InvariantResult[]): string {
  const out = results.map((r) => ({
    name: r.invariant.name,
    kind: r.invariant.kind,
    file: r.invariant.file,
    line: r.invariant.line,
    verdict: r.verdict,
    destinations: r.destinations,
    ...(r.counterexample ? { counterexample: r.counterexample } : {}),
    ...(r.unproven ? { unproven: r.unproven } : {}),
  }));
  return `${JSON.stringify({ proven: results.every((r) => r.verdict === 'proven'), invariants: out }, null, 2)}\n`;
}

export function formatVerifyJunit(results: readonly InvariantResult[], suiteName: string, timeSeconds: number, policyPaths: readonly string[]): string {
  const failures = results.filter((r) => r.verdict !== 'proven').length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="meshwarden verify" tests="${results.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${escapeXml(suiteName)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0" time="${timeSeconds.toFixed(3)}">`,
  ];
  for (const r of results) {
    const open = `    <testcase name="${escapeXml(r.invariant.name)}" classname="${escapeXml(suiteName)}" file="${escapeXml(r.invariant.file)}" line="${r.invariant.line}"`;
    if (r.verdict === 'proven') {
      lines.push(`${open}/>`);
      continue;
    }
    const body = r.counterexample ? counterexampleLines(r.counterexample, policyPaths).join('\n') : 'no request found for entries DENY rules may cover only together';
    lines.push(`${open}>`, `      <failure message="${escapeXml(r.verdict)}" type="${r.verdict}">${escapeXml(body)}</failure>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
