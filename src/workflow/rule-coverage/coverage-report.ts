/** coverage and test --coverage as text and JSON. */
import { stringify } from 'yaml';
import type { LearnedRule } from '../learn-policies.js';
import { ruleLocation, FEW, type LogCoverage } from './log-coverage.js';
import type { CaseCoverage } from './case-coverage.js';
import type { RuleUsage } from './rule-usage.js';

export function formatLogCoverageHuman(c: LogCoverage, log: string): string {
  const lines = [`coverage of ${c.rules} enforced rules by ${c.requests} logged requests (${log})`, ''];
  const unusedAllow = c.unused.filter((u) => u.policy.action === 'ALLOW');
  const unusedDeny = c.unused.filter((u) => u.policy.action === 'DENY');
  lines.push(`unused ALLOW rules (no logged request matched: candidates to remove): ${unusedAllow.length}`, ...unusedAllow.map((u) => `  ${ruleLocation(u.policy, u.index)}`));
  if (unusedDeny.length > 0) lines.push(`DENY rules no logged request hit (guardrails: keep them if they are meant to stand guard): ${unusedDeny.length}`, ...unusedDeny.map((u) => `  ${ruleLocation(u.policy, u.index)}`));
  lines.push('', `ALLOW rules far broader than their use (a wildcard used by at most ${FEW} callers or paths): ${c.broad.length}`);
  for (const b of c.broad) {
    const u = b.usage;
    lines.push(`  ${ruleLocation(u.policy, u.index)}: ${u.requests} requests`);
    if (b.breadth.includes('source')) lines.push(`    source wider than its ${u.callers.size} caller${u.callers.size === 1 ? '' : 's'}: ${[...u.callers.keys()].join(', ')}`);
    if (b.breadth.includes('paths')) lines.push(`    paths wider than the ${u.paths.size} used: ${[...u.paths].join(', ')}`);
    lines.push('    the rules learn would write from these requests:', ...indent(rulesYaml(b.narrower), 6));
  }
  return `${lines.join('\n')}\n`;
}

function rulesYaml(rules: readonly LearnedRule[]): string {
  const written = rules.map((r) => ({
    from: [{ source: { principals: [r.principal] } }],
    to: r.operations.map((o) => ({ operation: { methods: [...o.methods], paths: [...o.paths] } })),
  }));
  return stringify(written, { lineWidth: 0 });
}

function indent(text: string, spaces: number): string[] {
  return text.trimEnd().split('\n').map((line) => `${' '.repeat(spaces)}${line}`);
}

export function formatLogCoverageJson(c: LogCoverage): string {
  const rule = (u: RuleUsage) => ({ policy: u.policy.id, rule: u.index, action: u.policy.action, file: u.policy.origin.file, line: u.policy.origin.line, requests: u.requests });
  return `${JSON.stringify({
    requests: c.requests,
    rules: c.rules,
    unused: c.unused.map(rule),
    broad: c.broad.map((b) => ({ ...rule(b.usage), breadth: b.breadth, callers: Object.fromEntries(b.usage.callers), paths: [...b.usage.paths], narrower: b.narrower })),
  }, null, 2)}\n`;
}

export function formatCaseCoverage(c: CaseCoverage, threshold: number | undefined): string {
  const missed = c.rules.filter((r) => r.requests === 0);
  const lines = [`coverage: ${c.exercised} of ${c.rules.length} enforced rules exercised by the cases (${c.percent.toFixed(1)}%)${threshold === undefined ? '' : `, threshold ${threshold}%`}`];
  if (missed.length > 0) lines.push('not exercised:', ...missed.map((r) => `  ${ruleLocation(r.policy, r.index)}`));
  return `${lines.join('\n')}\n`;
}
