/**
 * The load phase: starts every contender's server, probes it, then runs the contenders in
 * turn, round after round (the order rotating), so that noise on a shared host falls on all
 * of them alike. Then latency at half of each one's measured saturation, interleaved too.
 * Server CPU comes from /proc, decisions from meshwarden's own /metrics.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMicros } from '../lib/proc-stat.js';
import { countsDelta, scrapeCounts, type ServerCounts } from '../lib/server-metrics.js';
import { spread } from '../lib/stats.js';
import { contenders as allContenders, serverSpecs, type Contender, type ServerSpec } from './contenders.js';
import type { LoadFixtures } from './fixtures.js';
import { runH2load } from './h2load.js';
import { probe, type ProbeAnswer } from './probe.js';
import type { SenderResult } from './sender.js';
import { startServer, type RunningServer } from './server-process.js';

export interface LoadSettings {
  readonly repoRoot: string;
  readonly benchOut: string;
  readonly rounds: number;
  readonly durationS: number;
  readonly latencyDurationS: number;
  readonly warmupS: number;
  readonly clients: number;
  readonly streams: number;
  readonly h2load: boolean;
  /** Only these contenders (ids); all when absent. */
  readonly only?: readonly string[];
  readonly log: (line: string) => void;
  readonly commands: string[];
}

export interface LoadRun {
  readonly contender: string;
  readonly round: number;
  readonly rps: number;
  readonly requests: number;
  readonly seconds: number;
  readonly cpuUsPerRequest: number;
  readonly driverErrors: number;
  readonly server?: ServerCounts;
}

export interface LatencyRun {
  readonly contender: string;
  readonly round: number;
  readonly offeredRps: number;
  readonly achievedRps: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

export interface ContenderInfo {
  readonly id: string;
  readonly label: string;
  readonly driver: string;
  readonly server: string;
  readonly probe?: ProbeAnswer;
  readonly skipped?: string;
}

export interface LoadResults {
  readonly contenders: ContenderInfo[];
  readonly runs: LoadRun[];
  readonly latency: LatencyRun[];
  readonly notes: string[];
}

const LATENCY_CONTENDERS = ['ceiling', 'grpc-ceiling', 'baseline', 'mw-hit', 'mw-grpcjs-hit', 'mw-miss', 'mw-hit-sender', 'mw-large'];
/**
 * The node sender's latency includes its own event loop and wake-ups: mw-hit-sender runs at
 * mw-miss's rate, so the sender's share of mw-miss's percentiles can be read off beside it.
 */
const LATENCY_RATE_OF: Readonly<Record<string, string>> = { 'mw-hit-sender': 'mw-miss' };

export async function runLoad(f: LoadFixtures, s: LoadSettings): Promise<LoadResults> {
  const notes: string[] = [];
  const servers = new Map<string, RunningServer>();
  const specs = new Map(serverSpecs(f, s.benchOut).map((spec) => [spec.key, spec]));
  const infos: ContenderInfo[] = [];
  const active: Contender[] = [];
  try {
    for (const c of allContenders(f).filter((c) => s.only === undefined || s.only.includes(c.id))) {
      if (c.driver === 'h2load' && !s.h2load) {
        infos.push({ ...describe(c), skipped: 'h2load not installed' });
        continue;
      }
      const server = await ensureServer(servers, specs.get(c.server)!, s, notes);
      if (server === undefined) {
        infos.push({ ...describe(c), skipped: `server ${c.server} did not start (see notes)` });
        continue;
      }
      const answer = await probe(server.grpc, firstFrame(c.input));
      const unexpected = answer.grpcStatus !== '0' || (c.expectCode >= 0 && answer.checkCode !== c.expectCode);
      if (unexpected) notes.push(`${c.id}: probe answered grpc-status ${answer.grpcStatus}, CheckResponse code ${answer.checkCode} (expected ${c.expectCode})`);
      infos.push({ ...describe(c), probe: answer });
      active.push(c);
    }
    const runs = await throughputRounds(active, servers, specs, s);
    const latency = await latencyRounds(active, runs, servers, s);
    return { contenders: infos, runs, latency, notes };
  } finally {
    await Promise.all([...servers.values()].map((server) => server.stop()));
  }
}

function describe(c: Contender): ContenderInfo {
  return { id: c.id, label: c.label, driver: c.driver, server: c.server };
}

function firstFrame(file: string): Buffer {
  const bytes = readFileSync(file);
  return bytes.subarray(0, 5 + bytes.readUInt32BE(1));
}

async function ensureServer(servers: Map<string, RunningServer>, spec: ServerSpec, s: LoadSettings, notes: string[]): Promise<RunningServer | undefined> {
  const running = servers.get(spec.key);
  if (running) return running;
  try {
    const server = await startServer({ name: spec.key, args: spec.args, cwd: s.repoRoot, startTimeoutMs: 180_000 });
    servers.set(spec.key, server);
    s.commands.push(`${server.command}   # ${spec.key}`);
    s.log(`started ${spec.key} on ${server.grpc} (pids ${server.pids.join(', ')})`);
    return server;
  } catch (error) {
    const message = (error as Error).message;
    const firstLine = message.split('\n')[0] ?? message;
    notes.push(spec.workers > 1 && /workers/i.test(message) ? `--workers rejected: ${firstLine}` : `${spec.key} failed to start: ${firstLine}`);
    return undefined;
  }
}

interface Measured {
  rps: number;
  requests: number;
  seconds: number;
  errors: number;
}

async function drive(c: Contender, server: RunningServer, s: LoadSettings, durationS: number, record: boolean, rate?: number): Promise<Measured & { latency?: LatencyRun['p50Us'][] }> {
  if (c.driver === 'h2load') {
    const logFile = rate === undefined ? undefined : join(s.benchOut, `h2load-${c.id}.log`);
    const run = await runH2load({
      // At a fixed rate, one stream per connection: with 32 in flight per connection h2load's
      // per-second pacing queues requests on the wire and the figure measures that queue.
      target: server.grpc, bodyFile: c.input, clients: s.clients, streams: rate === undefined ? s.streams : 1, durationS,
      ...(rate !== undefined ? { rpsPerClient: Math.max(1, Math.round(rate / s.clients)) } : {}),
      ...(logFile ? { logFile } : {}),
    });
    if (record) s.commands.push(run.command);
    const latency = run.latencyUs ? [run.latencyUs.p50, run.latencyUs.p90, run.latencyUs.p99, run.latencyUs.max] : undefined;
    return { rps: run.succeeded / run.seconds, requests: run.succeeded, seconds: run.seconds, errors: run.failed + run.errored, ...(latency ? { latency } : {}) };
  }
  const args = [join(s.benchOut, 'bench/load/sender.js'), '--target', server.grpc, '--frames', c.input, '--connections', String(s.clients),
    '--streams', String(s.streams), '--duration', String(durationS), ...(rate !== undefined ? ['--rate', String(Math.round(rate)), '--latencies'] : [])];
  if (record) s.commands.push(`node ${args.join(' ')}`);
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, args, { timeout: (durationS + 60) * 1000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
  const r = JSON.parse(out) as SenderResult;
  const latency = r.latencyUs ? [r.latencyUs.p50, r.latencyUs.p90, r.latencyUs.p99, r.latencyUs.max] : undefined;
  return { rps: r.ok / r.seconds, requests: r.ok, seconds: r.seconds, errors: r.grpcErrors + r.transportErrors, ...(latency ? { latency } : {}) };
}

async function throughputRounds(active: Contender[], servers: Map<string, RunningServer>, specs: Map<string, ServerSpec>, s: LoadSettings): Promise<LoadRun[]> {
  const runs: LoadRun[] = [];
  for (const c of active) await drive(c, servers.get(c.server)!, s, s.warmupS, false); // JIT warm-up, not recorded
  for (let round = 1; round <= s.rounds; round++) {
    const order = rotate(active, round - 1);
    for (const c of order) {
      const server = servers.get(c.server)!;
      const meshwarden = specs.get(c.server)!.meshwarden;
      const before = meshwarden ? await scrapeCounts(server.admin!) : undefined;
      const cpuBefore = cpuMicros(server.pids);
      const m = await drive(c, server, s, s.durationS, round === 1);
      const cpu = cpuMicros(server.pids) - cpuBefore;
      const counts = before ? countsDelta(await scrapeCounts(server.admin!), before) : undefined;
      // meshwarden's own count of decisions is the denominator; the references count on the driver.
      const requests = counts ? counts.checks : m.requests;
      runs.push({
        contender: c.id, round, rps: requests / m.seconds, requests, seconds: m.seconds,
        cpuUsPerRequest: requests > 0 ? cpu / requests : Number.NaN, driverErrors: m.errors, ...(counts ? { server: counts } : {}),
      });
      s.log(`round ${round}/${s.rounds} ${c.id.padEnd(14)} ${Math.round(requests / m.seconds).toString().padStart(7)} req/s  ${(cpu / Math.max(1, requests)).toFixed(1)} µs CPU/req`);
    }
  }
  return runs;
}

async function latencyRounds(active: Contender[], runs: LoadRun[], servers: Map<string, RunningServer>, s: LoadSettings): Promise<LatencyRun[]> {
  const chosen = active.filter((c) => LATENCY_CONTENDERS.includes(c.id));
  const halfOf = (id: string) => spread(runs.filter((r) => r.contender === id).map((r) => r.rps)).median / 2;
  const half = new Map(chosen.map((c) => [c.id, halfOf(LATENCY_RATE_OF[c.id] ?? c.id)]));
  const out: LatencyRun[] = [];
  for (let round = 1; round <= s.rounds; round++) {
    for (const c of rotate(chosen, round - 1)) {
      const offered = half.get(c.id)!;
      if (!(offered > 0)) continue;
      const m = await drive(c, servers.get(c.server)!, s, s.latencyDurationS, round === 1, offered);
      const [p50, p90, p99, max] = m.latency ?? [Number.NaN, Number.NaN, Number.NaN, Number.NaN];
      out.push({ contender: c.id, round, offeredRps: offered, achievedRps: m.rps, p50Us: p50!, p90Us: p90!, p99Us: p99!, maxUs: max! });
      s.log(`latency round ${round}/${s.rounds} ${c.id.padEnd(14)} at ${Math.round(offered)} req/s: p50 ${p50} µs, p99 ${p99} µs`);
    }
  }
  return out;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
