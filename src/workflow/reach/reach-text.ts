/**
 * reach and blast-radius reports as text: one row per entry, a wildcard caller spelled out as
 * what it is (ANYONE, any authenticated workload) so it cannot pass for a list of names.
 */
import type { PolicyRef } from '../../domain/index.js';
import { destinationLabel, type BlastRadius, type CallerClass, type Clause, type ReachEntry, type ReachReport } from '../../policy/index.js';

export function callerLabel(caller: CallerClass): string {
  switch (caller.kind) {
    case 'anyone': return 'ANYONE (unauthenticated included)';
    case 'authenticated': return 'any authenticated workload (*)';
    case 'principal': return caller.principal;
    case 'principals': return `principals ${caller.pattern}`;
    case 'namespace': return `namespace ${caller.namespace} (any workload)`;
  }
}

export function clauseText(clause: Clause): string {
  const values = (clause.values ?? clause.notValues ?? []).join(' ');
  return `${clause.attribute} ${clause.values !== undefined ? 'in' : 'not in'} [${values}]`;
}

export function ruleText(ref: PolicyRef | undefined): string {
  return ref === undefined ? 'defaultAction ALLOW' : `${ref.policy} rules[${ref.rule ?? '?'}]`;
}

function entryCells(entry: ReachEntry): string[] {
  const conditions = [
    ...entry.conditions.map(clauseText),
    ...entry.unless.map((u) => `unless ${ruleText(u.rule)}: ${u.clauses.map(clauseText).join(' and ')}`),
  ];
  return [
    callerLabel(entry.caller),
    entry.methods?.values?.join(' ') ?? '*',
    entry.paths?.values?.join(' ') ?? '*',
    conditions.join('; ') || '-',
    ruleText(entry.allowedBy),
  ];
}

const HEAD = ['CALLER', 'METHODS', 'PATHS', 'CONDITIONS', 'ALLOWED BY'];

export function formatReachTable(report: ReachReport): string {
  const byDestination = !('destination' in report.query);
  const head = byDestination ? ['DESTINATION', ...HEAD] : HEAD;
  const rows = (entries: readonly ReachEntry[]) => entries.map((e) => (byDestination ? [destinationLabel(e.destination), ...entryCells(e)] : entryCells(e)));
  const title = 'destination' in report.query
    ? `reach: who can get requests to ${destinationLabel(report.query.destination)} allowed`
    : `reach: where ${report.query.caller.principal ?? 'an unauthenticated caller'} can get requests allowed`;
  const lines = [title, ''];
  if (report.entries.length === 0) lines.push('  nothing: no request is allowed');
  else lines.push(...table([head, ...rows(report.entries)]));
  if (report.unproven.length > 0) {
    lines.push('', `unproven (no request found that the engine allows: probably covered by several DENY rules together):`, ...table([head, ...rows(report.unproven)]));
  }
  return `${lines.join('\n')}\n`;
}

export function formatBlastTable(blast: BlastRadius): string {
  const rows = blast.hops.map((hop) => [String(hop.depth), hop.from, destinationLabel(hop.to), hop.toIdentity ?? '(identity unknown: walk stops)', String(hop.entries.length)]);
  const lines = [`blast radius of ${blast.start} (depth ${blast.depth}): ${new Set(blast.hops.map((h) => destinationLabel(h.to))).size} destinations`, ''];
  lines.push(...(rows.length === 0 ? ['  nothing: this workload can get no request allowed'] : table([['HOP', 'FROM', 'DESTINATION', 'RUNS AS', 'ENTRIES'], ...rows])));
  return `${lines.join('\n')}\n`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}
