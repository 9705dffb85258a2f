/** Writes the suite's report: a Markdown page (tables, targets, machine, commands) and the full JSON. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spread } from '../lib/stats.js';
import type { LatencyRow, LoadRow, Target, TreeRow } from './summarize.js';

export interface Report {
  readonly kind: 'meshwarden-bench';
  readonly version: 1;
  readonly smoke: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly environment: Record<string, unknown>;
  readonly settings: Record<string, unknown>;
  readonly load: { rows: LoadRow[]; latency: LatencyRow[]; notes: string[]; raw: unknown };
  readonly micro: { tree: TreeRow[]; cacheHit: { authorizeNs: Spread; getNs: Spread }; identity: Record<string, unknown>; identityOutput: string; raw: unknown };
  readonly targets: Target[];
  readonly commands: string[];
}

const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : 'n/a');
const d = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const sp = (s: Spread, f: (v: number) => string) => (s.n === 0 ? '—' : `${f(s.median)} (${f(s.min)}–${f(s.max)})`);
const pct = (v: number | undefined) => (v === undefined ? '—' : `${(v * 100).toFixed(1)} %`);

export function writeReport(dir: string, name: string, report: Report): { markdown: string; json: string } {
  const json = join(dir, `${name}.json`);
  const markdown = join(dir, `${name}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(markdown, renderMarkdown(report));
  return { markdown, json };
}

export function renderMarkdown(r: Report): string {
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(`# meshwarden benchmark report${r.smoke ? ' (SMOKE: figures are meaningless)' : ''}`, '');
  push(`Run ${r.startedAt} → ${r.finishedAt}. Every figure is the median over rounds, with (min–max); contenders interleaved in each round. Compare only within this report.`, '');
  push('## Targets', '', '| target | measured | result | note |', '| --- | --- | --- | --- |');
  for (const t of r.targets) push(`| ${t.name} | ${t.measured} | ${t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : '**MISS**'} | ${t.note ?? ''} |`);
  push('', '## Load: throughput at saturation', '');
  const baseline = r.load.rows.find((row) => row.id === 'baseline')?.rps.median;
  push('| contender | driver | req/s | × baseline | server CPU µs/req | decisions allow/deny/unauth | decision-cache hits | token-cache hits | driver errors |');
  push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of r.load.rows) {
    if (row.skipped) {
      push(`| ${row.label} | ${row.driver} | skipped: ${row.skipped} | | | | | | |`);
      continue;
    }
    const dec = row.decisions ? `${n0(row.decisions.allow)} / ${n0(row.decisions.deny)} / ${n0(row.decisions.unauthenticated)}` : '(not counted)';
    const vs = baseline ? d(row.rps.median / baseline, 2) : '—';
    push(`| ${row.label} | ${row.driver} | ${sp(row.rps, n0)} | ${vs} | ${sp(row.cpuUsPerRequest, (v) => d(v, 1))} | ${dec} | ${pct(row.decisionCacheHitShare)} | ${pct(row.tokenCacheHitShare)} | ${row.driverErrors} |`);
  }
  push(...transportTable(r));
  push('', '## Load: latency at half of each contender\'s saturation', '', '| contender | offered req/s | achieved req/s | p50 µs | p90 µs | p99 µs |', '| --- | --- | --- | --- | --- | --- |');
  for (const l of r.load.latency) push(`| ${l.id} | ${n0(l.offeredRps)} | ${sp(l.achievedRps, n0)} | ${sp(l.p50Us, n0)} | ${sp(l.p90Us, n0)} | ${sp(l.p99Us, n0)} |`);
  if (r.load.notes.length > 0) push('', '**Notes from the load phase:**', '', ...r.load.notes.map((note) => `- ${note}`));
  push('', '## Micro: decision tree vs reference evaluator', '', '| rules | compile ms | heap B/rule | tree median µs | tree p99 µs | reference median µs | tree speed-up | allow share |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const t of r.micro.tree) {
    push(`| ${n0(t.rules)} | ${sp(t.compileMs, (v) => d(v, 1))} | ${n0(t.heapBytesPerRule)} | ${sp(t.treeMedianNs, (v) => d(v / 1000, 3))} | ${sp(t.treeP99Ns, (v) => d(v / 1000, 3))} | ${sp(t.referenceMedianNs, (v) => d(v / 1000, 1))} | ${n0(t.speedup)} × | ${pct(t.allowShare)} |`);
  }
  push('', '## Micro: caches and token verification', '', '| what | µs per call |', '| --- | --- |');
  push(`| Authorizer.authorize, repeated request, decision-cache hit | ${sp(r.micro.cacheHit.authorizeNs, (v) => d(v / 1000, 3))} |`);
  push(`| DecisionCache.get alone | ${sp(r.micro.cacheHit.getNs, (v) => d(v / 1000, 3))} |`);
  for (const [alg, f] of Object.entries(r.micro.identity)) {
    for (const [what, value] of Object.entries(f as Record<string, number>)) push(`| ${alg} ${what.replace(/Us$/, '')} (bench/identity-verify.ts) | ${d(value, 3)} |`);
  }
  push('', '## Machine and versions', '', '```json', JSON.stringify(r.environment, null, 1), '```', '', '## Settings', '', '```json', JSON.stringify(r.settings, null, 1), '```');
  push('', '## Commands', '', 'Every command the suite ran (load commands of round 1; later rounds repeat them).', '', '```sh', ...r.commands, '```', '');
  return lines.join('\n');
}

/** Each meshwarden transport (cache hit) against the two ceilings and the baseline: how far it is from what the transport itself costs. */
function transportTable(r: Report): string[] {
  const row = (id: string) => r.load.rows.find((x) => x.id === id && x.rps.n > 0);
  const [raw, grpc, baseline] = [row('ceiling'), row('grpc-ceiling'), row('baseline')];
  const transports = [['native', row('mw-hit')], ['grpc-js', row('mw-grpcjs-hit')]] as const;
  if (transports.every(([, t]) => t === undefined)) return [];
  const ratio = (a: number, b: number | undefined) => (b ? `${d(a / b, 2)} ×` : '—');
  const p99 = (id: string) => {
    const l = r.load.latency.find((x) => x.id === id);
    return l ? `${n0(l.p99Us.median)} at ${n0(l.offeredRps)} req/s` : '—';
  };
  const lines = ['', '## Transports: meshwarden cache hit against the ceilings', '',
    'Throughput ratios are of medians; "CPU over gRPC ceiling" is the server CPU per Check beyond what the gRPC-shaped ceiling spends (its own work).', '',
    '| transport | req/s | × gRPC-shaped ceiling | × raw ceiling | × baseline | server CPU µs/Check | CPU over gRPC ceiling µs | p99 µs at half saturation |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const [name, t] of transports) {
    if (!t) continue;
    const id = name === 'native' ? 'mw-hit' : 'mw-grpcjs-hit';
    const over = grpc ? d(t.cpuUsPerRequest.median - grpc.cpuUsPerRequest.median, 1) : '—';
    lines.push(`| ${name} | ${n0(t.rps.median)} | ${ratio(t.rps.median, grpc?.rps.median)} | ${ratio(t.rps.median, raw?.rps.median)} | ${ratio(t.rps.median, baseline?.rps.median)} | ${d(t.cpuUsPerRequest.median, 1)} | ${over} | ${p99(id)} |`);
  }
  for (const [name, ref] of [['gRPC-shaped ceiling', grpc], ['raw ceiling', raw], ['baseline (grpc-js, constant OK)', baseline]] as const) {
    const id = ref?.id ?? '';
    if (ref) lines.push(`| *${name}* | ${n0(ref.rps.median)} | ${ratio(ref.rps.median, grpc?.rps.median)} | ${ratio(ref.rps.median, raw?.rps.median)} | ${ratio(ref.rps.median, baseline?.rps.median)} | ${d(ref.cpuUsPerRequest.median, 1)} | ${grpc ? d(ref.cpuUsPerRequest.median - grpc.cpuUsPerRequest.median, 1) : '—'} | ${p99(id)} |`);
  }
  return lines;
}
