/** The Envoy section's report: bench/results/envoy.md (tables, targets, profile) and envoy.json (the same plus every raw run). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spread, type Spread } from '../lib/stats.js';
import type { EnvoyResults, EnvoySettings } from './run-envoy.js';

export interface EnvoyTarget {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean | null;
  readonly why?: string;
}

export interface EnvoyReport {
  readonly kind: 'meshwarden-bench-envoy';
  readonly version: 1;
  readonly smoke: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly environment: Record<string, unknown>;
  readonly settings: Omit<EnvoySettings, 'log' | 'commands' | 'repoRoot' | 'cacheDir'>;
  readonly throughput: ThroughputRow[];
  readonly latency: LatencyRow[];
  readonly addedOverEnvoyAtHalf?: { readonly scenario: string; readonly rate: number; readonly p50Us: number; readonly p99Us: number };
  readonly targets: EnvoyTarget[];
  readonly results: EnvoyResults;
  readonly commands: string[];
}

export interface ThroughputRow {
  readonly id: string;
  readonly label: string;
  readonly skipped?: string;
  readonly rps?: Spread;
  readonly vsEnvoyAlone?: number;
  readonly status2xxShare?: number;
  readonly envoyCpuUs?: Spread;
  readonly authzCpuUs?: Spread;
  /** Envoy + authz CPU µs per request (median of the per-round sums). */
  readonly totalCpuUs?: Spread;
  readonly decisionCacheHitShare?: number;
  readonly errors?: number;
  /** Median kernel share (stime / CPU) of Envoy and of the authz process. */
  readonly envoyKernelShare?: number;
  readonly authzKernelShare?: number;
}

export interface LatencyRow {
  readonly id: string;
  readonly pass: 'fixed' | 'half' | 'paired';
  readonly offeredRps: number;
  readonly achievedRps: Spread;
  readonly p50Us: Spread;
  readonly p90Us: Spread;
  readonly p99Us: Spread;
  /** Median p50/p99 minus Envoy alone's at the same rate (fixed pass only). */
  readonly addedP50Us?: number;
  readonly addedP99Us?: number;
  /** meshwarden's own check duration (median over rounds of the bucket bound holding p50 / p99). */
  readonly serverP50UsAtMost?: number;
  readonly serverP99UsAtMost?: number;
  /** Medians over rounds: meshwarden's event-loop delay p99 and max, GC pauses per run, the longest's bucket bound. */
  readonly loopDelayP99Us?: number;
  readonly loopDelayMaxUs?: number;
  readonly gcPausesPerS?: number;
  readonly gcLongestUsAtMost?: number;
}

const TARGET_ROW = 'mw-1k-hit';

export function buildEnvoyReport(r: EnvoyResults, s: EnvoySettings, meta: { startedAt: string; environment: Record<string, unknown>; commands: string[] }): EnvoyReport {
  const runsOf = (id: string) => r.runs.filter((x) => x.scenario === id);
  const alone = spread(runsOf('envoy-alone').map((x) => x.rps)).median;
  const throughput: ThroughputRow[] = r.scenarios.map((c) => {
    if (c.skipped) return { id: c.id, label: c.label, skipped: c.skipped };
    const runs = runsOf(c.id);
    const rps = spread(runs.map((x) => x.rps));
    const sum = (f: (x: (typeof runs)[number]) => number) => runs.reduce((a, x) => a + f(x), 0);
    const hits = sum((x) => x.server?.decisionCacheHits ?? 0);
    const misses = sum((x) => x.server?.decisionCacheMisses ?? 0);
    return {
      id: c.id, label: c.label, rps, vsEnvoyAlone: rps.median / alone,
      status2xxShare: sum((x) => x.status2xx) / Math.max(1, sum((x) => x.answered)),
      envoyCpuUs: spread(runs.map((x) => x.envoyCpuUsPerRequest)),
      ...(runs.some((x) => x.authzCpuUsPerRequest !== undefined) ? { authzCpuUs: spread(runs.map((x) => x.authzCpuUsPerRequest ?? Number.NaN)) } : {}),
      totalCpuUs: spread(runs.map((x) => x.envoyCpuUsPerRequest + (x.authzCpuUsPerRequest ?? 0))),
      ...(runs.every((x) => x.envoyKernelShare !== undefined) ? { envoyKernelShare: spread(runs.map((x) => x.envoyKernelShare!)).median } : {}),
      ...(runs.every((x) => x.authzKernelShare !== undefined) ? { authzKernelShare: spread(runs.map((x) => x.authzKernelShare!)).median } : {}),
      ...(hits + misses > 0 ? { decisionCacheHitShare: hits / (hits + misses) } : {}),
      errors: sum((x) => x.otherErrors),
    };
  });
  const latencyOf = (id: string, pass: LatencyRow['pass']) => r.latency.filter((x) => x.scenario === id && x.pass === pass);
  const aloneFixed = latencyOf('envoy-alone', 'fixed');
  const aloneP50 = spread(aloneFixed.map((x) => x.p50Us)).median;
  const aloneP99 = spread(aloneFixed.map((x) => x.p99Us)).median;
  const latency: LatencyRow[] = [];
  for (const pass of ['fixed', 'half', 'paired'] as const) {
    for (const c of r.scenarios) {
      const runs = latencyOf(c.id, pass);
      if (runs.length === 0) continue;
      const p50 = spread(runs.map((x) => x.p50Us));
      const p99 = spread(runs.map((x) => x.p99Us));
      const server = runs.filter((x) => x.server);
      latency.push({
        ...(server.length ? {
          serverP50UsAtMost: spread(server.map((x) => x.server!.p50UsAtMost)).median, serverP99UsAtMost: spread(server.map((x) => x.server!.p99UsAtMost)).median,
          ...(server.every((x) => x.server!.eventLoopDelayP99Us !== undefined) ? {
            loopDelayP99Us: spread(server.map((x) => x.server!.eventLoopDelayP99Us)).median, loopDelayMaxUs: spread(server.map((x) => x.server!.eventLoopDelayMaxUs)).median,
            gcPausesPerS: spread(server.map((x) => x.server!.gcPauses / s.latencyDurationS)).median, gcLongestUsAtMost: spread(server.map((x) => x.server!.gcLongestUsAtMost)).median,
          } : {}),
        } : {}),
        id: c.id, pass, offeredRps: runs[0]!.offeredRps, achievedRps: spread(runs.map((x) => x.achievedRps)), p50Us: p50, p90Us: spread(runs.map((x) => x.p90Us)), p99Us: p99,
        ...(pass === 'fixed' && c.id !== 'envoy-alone' && aloneFixed.length ? { addedP50Us: p50.median - aloneP50, addedP99Us: p99.median - aloneP99 } : {}),
      });
    }
  }
  const half = latency.find((l) => l.id === TARGET_ROW && l.pass === 'half');
  const paired = latency.find((l) => l.id === 'envoy-alone' && l.pass === 'paired');
  const addedOverEnvoyAtHalf = half && paired
    ? { scenario: TARGET_ROW, rate: half.offeredRps, p50Us: half.p50Us.median - paired.p50Us.median, p99Us: half.p99Us.median - paired.p99Us.median }
    : undefined;
  return {
    kind: 'meshwarden-bench-envoy', version: 1, smoke: s.smoke, startedAt: meta.startedAt, finishedAt: new Date().toISOString(), environment: meta.environment,
    settings: { smoke: s.smoke, rounds: s.rounds, durationS: s.durationS, latencyDurationS: s.latencyDurationS, warmupS: s.warmupS, clients: s.clients, streams: s.streams, fixedRate: s.fixedRate, h1: s.h1, envoyConcurrency: s.envoyConcurrency, profileS: s.profileS },
    throughput, latency, ...(addedOverEnvoyAtHalf ? { addedOverEnvoyAtHalf } : {}),
    targets: targets(throughput, addedOverEnvoyAtHalf, r, latency), results: r, commands: meta.commands,
  };
}

function targets(rows: ThroughputRow[], added: EnvoyReport['addedOverEnvoyAtHalf'], r: EnvoyResults, latency: LatencyRow[]): EnvoyTarget[] {
  const row = (id: string) => rows.find((x) => x.id === id && x.rps);
  const mw = row(TARGET_ROW);
  const alone = row('envoy-alone');
  const profile = profileLine(r);
  const ratio = (other: string, factor: number, name: string): EnvoyTarget => {
    const o = row(other);
    if (!mw || !o) return { name, target: `≥ ${factor} ×`, measured: 'n/a', pass: null, why: `not measured: ${(rows.find((x) => x.id === (mw ? other : TARGET_ROW))?.skipped) ?? 'missing row'}` };
    const x = mw.rps!.median / o.rps!.median;
    const cpu = o.totalCpuUs!.median / mw.totalCpuUs!.median;
    const measured = `${x.toFixed(2)} × (${fmt(mw.rps!.median)} vs ${fmt(o.rps!.median)} req/s); by CPU per request ${cpu.toFixed(2)} × (${us(mw.totalCpuUs!.median)} vs ${us(o.totalCpuUs!.median)} µs, Envoy + authz)`;
    if (x >= factor) return { name, target: `≥ ${factor} ×`, measured, pass: true };
    // Throughput at equal CPU goes as 1 / (CPU per request): the budget per request that meets the target.
    const budget = o.totalCpuUs!.median / factor;
    const e = mw.envoyCpuUs!.median;
    const m = mw.authzCpuUs!.median;
    const e0 = alone?.envoyCpuUs?.median ?? Number.NaN;
    const why = [
      `at ${factor} × ${other}'s throughput on the same CPU, Envoy + meshwarden may spend ${us(budget)} µs CPU per request (${other}: ${us(o.totalCpuUs!.median)} µs${o.authzCpuUs ? `, of which Envoy ${us(o.envoyCpuUs!.median)} and its authz process ${us(o.authzCpuUs.median)}` : ', all in Envoy'}); ` +
        `it spends ${us(mw.totalCpuUs!.median)}: Envoy ${us(e)} µs (${us(e - e0)} more than Envoy alone's ${us(e0)}: its ext_authz gRPC client), meshwarden ${us(m)} µs. ` +
        (budget - e > 0 ? `Meshwarden would have to fit in ${us(budget - e)} µs/request` : `Envoy's side of ext_authz alone exceeds the budget, whatever meshwarden does`) +
        (mw.envoyKernelShare !== undefined && alone?.envoyKernelShare !== undefined
          ? ` (Envoy's time in the kernel: ${pct(alone.envoyKernelShare)} alone, ${pct(mw.envoyKernelShare)} with ext_authz; meshwarden's: ${pct(mw.authzKernelShare)})`
          : ''),
      `The processes were not CPU-bound on their own at saturation: ${fmt(mw.rps!.median)} req/s × ${us(e + m)} µs = ${((mw.rps!.median * (e + m)) / 1e6).toFixed(2)} of 2 cores (h2load and whatever else runs on the host take the rest; load average under "Machine and versions"), so the CPU ratio is the steadier figure`,
      ...(profile ? [profile] : []),
    ].join('. ');
    return { name, target: `≥ ${factor} ×`, measured, pass: false, why };
  };
  const out = [
    ratio('envoy-rbac', 0.5, 'Envoy + meshwarden (1,000 rules, cache hit) vs Envoy + RBAC, throughput'),
    ratio('envoy-opa', 2, 'Envoy + meshwarden (1,000 rules, cache hit) vs Envoy + OPA-Envoy, throughput'),
  ];
  const name = 'p99 meshwarden adds over Envoy alone, at half of Envoy + meshwarden saturation (1,000 rules, hit)';
  if (!added) {
    out.push({ name, target: '≤ 1 ms', measured: 'n/a', pass: null });
    return out;
  }
  const half = latency.find((l) => l.id === TARGET_ROW && l.pass === 'half');
  const paired = latency.find((l) => l.id === 'envoy-alone' && l.pass === 'paired');
  const pass = added.p99Us <= 1000;
  const why = [
    `meshwarden's own check duration in those runs: p50 ≤ ${us(half?.serverP50UsAtMost ?? Number.NaN)} µs, p99 ≤ ${us(half?.serverP99UsAtMost ?? Number.NaN)} µs (its histogram)` +
      (half?.loopDelayP99Us !== undefined ? `; its event loop ran late by up to ${us(half.loopDelayP99Us)} µs at p99 (max ${us(half.loopDelayMaxUs!)} µs), with ${half.gcPausesPerS!.toFixed(1)} GC pauses/s, the longest ≤ ${us(half.gcLongestUsAtMost!)} µs` : '') +
      `; the rest of the ${us(added.p99Us)} µs is the extra hop: Envoy's gRPC client, the loopback round trip, and the scheduling of one more process per request on 2 busy cores ` +
      `(Envoy alone's own p99 at that rate: ${us(paired?.p99Us.median ?? Number.NaN)} µs, min–max ${us(paired?.p99Us.min ?? Number.NaN)}–${us(paired?.p99Us.max ?? Number.NaN)})`,
    ...(profile ? [profile] : []),
  ].join('. ');
  out.push({ name, target: '≤ 1 ms', measured: `${(added.p99Us / 1000).toFixed(3)} ms at ${fmt(added.rate)} req/s (p50 +${(added.p50Us / 1000).toFixed(3)} ms)`, pass, ...(pass ? {} : { why }) });
  return out;
}

/** One sentence from the CPU profile of meshwarden at saturation. */
function profileLine(r: EnvoyResults): string | undefined {
  const p = r.profile;
  if (!p) return undefined;
  const cats = p.categories.slice(0, 6).map((c) => `${c.name} ${(c.share * 100).toFixed(0)}%`).join(', ');
  const fns = p.topFunctions.filter((f) => f.where).slice(0, 4).map((f) => `${f.name} (${f.where}) ${(f.share * 100).toFixed(1)}%`).join('; ');
  return `Profile (node --cpu-prof, ${fmt(p.rps)} req/s): meshwarden's main thread was busy ${(p.busyShare * 100).toFixed(0)}% of the load; its busy time went to ${cats}; top self time in JS: ${fns}`;
}

const fmt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : 'n/a');
const us = (v: number) => (Number.isFinite(v) ? (v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(1)) : 'n/a');
const sp = (s: Spread | undefined, f: (v: number) => string = fmt) => (s && s.n > 0 ? (s.n > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median)) : 'n/a');
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '' : `${(v * 100).toFixed(v > 0.999 || v < 0.001 ? 0 : 1)}%`);
const verdict = (p: boolean | null) => (p === null ? 'n/a' : p ? '**met**' : '**MISSED**');

export function envoyMarkdown(rep: EnvoyReport): string {
  const s = rep.settings;
  const r = rep.results;
  const label = new Map(r.scenarios.map((c) => [c.id, c.label]));
  const lines: string[] = [
    '# meshwarden through a real Envoy',
    '',
    `${rep.smoke ? '**Smoke run: figures meaningless.** ' : ''}Started ${rep.startedAt}, finished ${rep.finishedAt}. ` +
      `${s.rounds} interleaved round(s) (order rotating); saturation runs of ${s.durationS} s (h2load -t 1 -c ${s.clients} -m ${s.streams}${s.h1 ? ' --h1' : ', h2'}), latency runs of ${s.latencyDurationS} s ` +
      `(-c ${s.clients} -m 1 --rps, per-request times from --log-file); warm-up ${s.warmupS} s per scenario. Envoy --concurrency ${s.envoyConcurrency}. ` +
      'Figures: median over rounds (min–max). Compare figures only within this report.',
    '',
    '## Targets',
    '',
    '| target | wanted | measured | verdict |',
    '| --- | --- | --- | --- |',
    ...rep.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${verdict(t.pass)} |`),
    '',
    ...rep.targets.filter((t) => t.pass === false && t.why).map((t) => `- Why "${t.name}" is missed: ${t.why}.`),
    '',
    '## Throughput at saturation',
    '',
    'Requests answered per second by Envoy (200 or 403: a deny is a decision too); CPU µs per request of each process from /proc/PID/stat (utime+stime, 10 ms ticks) over the run.',
    '',
    '| scenario | req/s | × Envoy alone | 200 share | Envoy µs CPU/req | authz µs CPU/req | Envoy + authz µs CPU/req | kernel share Envoy / authz | decision-cache hits |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rep.throughput.map((t) => t.skipped
      ? `| ${t.label} | skipped: ${t.skipped} | | | | | | | |`
      : `| ${t.label} | ${sp(t.rps)} | ${t.vsEnvoyAlone!.toFixed(2)} | ${pct(t.status2xxShare)} | ${sp(t.envoyCpuUs, us)} | ${sp(t.authzCpuUs, us)} | ${sp(t.totalCpuUs, us)} | ${t.envoyKernelShare === undefined ? '' : `${pct(t.envoyKernelShare)}${t.authzKernelShare === undefined ? '' : ` / ${pct(t.authzKernelShare)}`}`} | ${pct(t.decisionCacheHitShare)} |`),
    '',
    'The CPU columns do not depend on how busy the machine is with other work; req/s does (load average at start and end under "Machine and versions").',
    '',
    `## Latency at a common fixed rate (${fmt(s.fixedRate)} req/s)`,
    '',
    'µs from h2load sending a request to its answer, through Envoy. "Added" is the median minus Envoy alone\'s median at the same rate.',
    '',
    '| scenario | achieved req/s | p50 µs | p90 µs | p99 µs | added p50 µs | added p99 µs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rep.latency.filter((l) => l.pass === 'fixed').map((l) => `| ${label.get(l.id)} | ${sp(l.achievedRps)} | ${sp(l.p50Us, us)} | ${sp(l.p90Us, us)} | ${sp(l.p99Us, us)} | ${l.addedP50Us === undefined ? '' : us(l.addedP50Us)} | ${l.addedP99Us === undefined ? '' : us(l.addedP99Us)} |`),
    '',
    '## Latency at half of each one\'s saturation',
    '',
    'The last column is meshwarden\'s own view of the same runs (`meshwarden_check_duration_seconds`: from receiving a Check to answering it; histogram bucket bounds holding p50 / p99).',
    '',
    'Then meshwarden\'s event-loop delay over the run (Node\'s monitorEventLoopDelay through prom-client, sampled every 10 ms, the 10 ms subtracted: how late its loop ran, whether from GC, its own work or the OS not scheduling it) and its GC pauses (`nodejs_gc_duration_seconds`).',
    '',
    '| scenario | offered req/s | achieved req/s | p50 µs | p90 µs | p99 µs | meshwarden\'s own p50 / p99 µs | event-loop delay p99 / max µs | GC pauses/s, longest ≤ µs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rep.latency.filter((l) => l.pass !== 'fixed').map((l) => `| ${l.pass === 'paired' ? `Envoy alone at Envoy + meshwarden's (1,000 rules, hit) half-saturation rate` : label.get(l.id)} | ${fmt(l.offeredRps)} | ${sp(l.achievedRps)} | ${sp(l.p50Us, us)} | ${sp(l.p90Us, us)} | ${sp(l.p99Us, us)} | ${l.serverP50UsAtMost === undefined ? '' : `≤ ${us(l.serverP50UsAtMost)} / ≤ ${us(l.serverP99UsAtMost!)}`} | ${l.loopDelayP99Us === undefined ? '' : `${us(l.loopDelayP99Us)} / ${us(l.loopDelayMaxUs!)}`} | ${l.gcPausesPerS === undefined ? '' : `${l.gcPausesPerS.toFixed(1)}, ≤ ${us(l.gcLongestUsAtMost!)}`} |`),
    '',
    ...(rep.addedOverEnvoyAtHalf
      ? [`Added by meshwarden (1,000 rules, hit) over Envoy alone at the same rate (${fmt(rep.addedOverEnvoyAtHalf.rate)} req/s): p50 ${us(rep.addedOverEnvoyAtHalf.p50Us)} µs, p99 ${us(rep.addedOverEnvoyAtHalf.p99Us)} µs.`, '']
      : []),
  ];
  if (r.profile) {
    const p = r.profile;
    lines.push(
      '## Where meshwarden\'s CPU goes (node --cpu-prof, 1,000 rules, cache hit, at saturation through Envoy)',
      '',
      `A separate meshwarden + Envoy pair, profiled for ${p.profiledSeconds.toFixed(1)} s at ${fmt(p.rps)} req/s: Envoy ${p.envoyCpuUsPerRequest.toFixed(1)} µs CPU/req, meshwarden ${p.meshwardenCpuUsPerRequest.toFixed(1)} µs CPU/req (all its threads; the profile is the main thread, busy ${(p.busyShare * 100).toFixed(0)}% of the time). Shares of busy main-thread time:`,
      '',
      '| where | share |',
      '| --- | ---: |',
      ...p.categories.slice(0, 10).map((c) => `| ${c.name} | ${pct(c.share)} |`),
      '',
      '| function (self time) | where | share |',
      '| --- | --- | ---: |',
      ...p.topFunctions.map((f) => `| ${f.name} | ${f.where} | ${pct(f.share)} |`),
      '',
    );
  }
  if (r.agreement) {
    const a = r.agreement;
    lines.push(
      '## Same policy, same answers',
      '',
      `${a.requests} distinct requests of the 1,000-rule set's vocabulary (bench/lib/distinct-requests.ts; meshwarden allows ${a.allowedByMeshwarden}), sent through each stack: how many got meshwarden's answer.`,
      '',
      ...Object.entries(a.engines).map(([k, v]) => `- ${k}: ${v.agree}/${a.requests}${v.differ.length ? `; first differences: ${v.differ.map((d) => `${d.method} ${d.path} (${d.service}) meshwarden ${d.meshwarden} vs ${d.other}`).join('; ')}` : ''}`),
      '',
    );
  }
  lines.push(
    '## Setup',
    '',
    '- One Envoy process per stack, plaintext listener on 127.0.0.1, route answers with `direct_response` (no upstream process). Identity: the caller\'s SPIFFE ID in `x-forwarded-client-cert: URI=<id>` (Envoy `forward_client_cert_details: ALWAYS_FORWARD_ONLY`), read by all three engines (meshwarden `identity.trustForwardedClientCert`, RBAC header principals, Rego parsing the header). h2load cannot present a client certificate, so an mTLS listener was not an option for the load.',
    '- Destination service: each service has a virtual host (its `:authority`) that sets ext_authz `context_extensions.service` (read by meshwarden and OPA); RBAC matches the `:authority` itself.',
    '- RBAC holds the whole 1,000-rule set (two filters, DENY then ALLOW, one RBAC policy per rule), as OPA and meshwarden do. An Istio sidecar would carry only its own workload\'s rules in RBAC, a smaller set.',
    '- meshwarden: `meshwarden serve` from dist/, decision cache of 1 entry (the repeated request always hits; the distinct paths always miss), decision log off, JWT-SVID keys in a SPIFFE bundle; ext_authz over gRPC (HTTP/2 cluster) to 127.0.0.1.',
    `- opa-envoy-plugin ${r.versions['opa-envoy-plugin'] ?? '(not run)'}: the same rules generated as Rego (bench/envoy/translate.ts), decision \`meshwarden/bench/allow\`, decision logs off, GOMAXPROCS default.`,
    '',
  );
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((x) => `- ${x}`), '');
  lines.push('## Machine and versions', '', '```json', JSON.stringify(rep.environment, null, 2), '```', '', '## Commands', '', '```sh', ...rep.commands, '```', '');
  return lines.join('\n');
}

export function writeEnvoyReport(outDir: string, rep: EnvoyReport): { markdown: string; json: string } {
  const markdown = join(outDir, 'envoy.md');
  const json = join(outDir, 'envoy.json');
  writeFileSync(markdown, envoyMarkdown(rep));
  writeFileSync(json, `${JSON.stringify(rep, null, 1)}\n`);
  return { markdown, json };
}
