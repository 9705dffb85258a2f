/** Turns raw runs into the report's rows (median, min, max) and checks the targets. */
import type { IdentityFigures } from './identity-figures.js';
import type { LoadResults } from '../load/run-load.js';
import type { MicroResults } from '../micro/run-micro.js';
import { spread, type Spread } from '../lib/stats.js';

export interface LoadRow {
  readonly id: string;
  readonly label: string;
  readonly driver: string;
  readonly rps: Spread;
  readonly cpuUsPerRequest: Spread;
  readonly decisions?: { allow: number; deny: number; unauthenticated: number };
  readonly decisionCacheHitShare?: number;
  readonly tokenCacheHitShare?: number;
  readonly driverErrors: number;
  readonly skipped?: string;
}

export interface LatencyRow {
  readonly id: string;
  readonly offeredRps: number;
  readonly achievedRps: Spread;
  readonly p50Us: Spread;
  readonly p90Us: Spread;
  readonly p99Us: Spread;
}

export interface TreeRow {
  readonly rules: number;
  readonly compileMs: Spread;
  readonly heapBytesPerRule: number;
  readonly treeMedianNs: Spread;
  readonly treeP99Ns: Spread;
  readonly referenceMedianNs: Spread;
  readonly speedup: number;
  readonly allowShare: number;
}

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
  readonly note?: string;
}

export function loadRows(load: LoadResults): LoadRow[] {
  return load.contenders.map((c) => {
    const runs = load.runs.filter((r) => r.contender === c.id);
    const sum = (pick: (r: (typeof runs)[number]) => number | undefined) => runs.reduce((t, r) => t + (pick(r) ?? 0), 0);
    const checks = sum((r) => r.server?.checks);
    const dHits = sum((r) => r.server?.decisionCacheHits);
    const dMisses = sum((r) => r.server?.decisionCacheMisses);
    const tHits = sum((r) => r.server?.tokenCacheHits);
    const tMisses = sum((r) => r.server?.tokenCacheMisses);
    return {
      id: c.id, label: c.label, driver: c.driver,
      rps: spread(runs.map((r) => r.rps)),
      cpuUsPerRequest: spread(runs.map((r) => r.cpuUsPerRequest)),
      ...(checks > 0 ? { decisions: { allow: sum((r) => r.server?.allow), deny: sum((r) => r.server?.deny), unauthenticated: sum((r) => r.server?.unauthenticated) } } : {}),
      ...(dHits + dMisses > 0 ? { decisionCacheHitShare: dHits / (dHits + dMisses) } : {}),
      ...(tHits + tMisses > 0 ? { tokenCacheHitShare: tHits / (tHits + tMisses) } : {}),
      driverErrors: sum((r) => r.driverErrors),
      ...(c.skipped ? { skipped: c.skipped } : {}),
    };
  });
}

export function latencyRows(load: LoadResults): LatencyRow[] {
  const ids = [...new Set(load.latency.map((l) => l.contender))];
  return ids.map((id) => {
    const runs = load.latency.filter((l) => l.contender === id);
    return {
      id, offeredRps: runs[0]!.offeredRps, achievedRps: spread(runs.map((r) => r.achievedRps)),
      p50Us: spread(runs.map((r) => r.p50Us)), p90Us: spread(runs.map((r) => r.p90Us)), p99Us: spread(runs.map((r) => r.p99Us)),
    };
  });
}

export function treeRows(micro: MicroResults): TreeRow[] {
  const sizes = [...new Set(micro.tree.map((t) => t.rules))];
  return sizes.map((rules) => {
    const runs = micro.tree.filter((t) => t.rules === rules);
    const tree = spread(runs.map((r) => r.treeMedianNs));
    const reference = spread(runs.map((r) => r.referenceMedianNs));
    return {
      rules, compileMs: spread(runs.map((r) => r.compileMs)), heapBytesPerRule: runs[0]!.heapBytesPerRule,
      treeMedianNs: tree, treeP99Ns: spread(runs.map((r) => r.treeP99Ns)), referenceMedianNs: reference,
      speedup: reference.median / tree.median, allowShare: runs[0]!.allowShare,
    };
  });
}

export interface TargetInputs {
  readonly load: LoadRow[];
  readonly latency: LatencyRow[];
  readonly tree: TreeRow[];
  readonly cacheHit: { authorizeNs: Spread; getNs: Spread };
  readonly identity: Record<string, IdentityFigures>;
  readonly cores: number;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const check = (name: string, measured: string, pass: boolean | undefined, note?: string): Target => ({ name, measured, pass, ...(note ? { note } : {}) });

export function targets(t: TargetInputs): Target[] {
  const row = (id: string) => t.load.find((r) => r.id === id && r.rps.n > 0);
  const size = (rules: number) => t.tree.find((r) => Math.abs(r.rules - rules) <= 2);
  const out: Target[] = [];
  const [hit, baseline] = [row('mw-hit'), row('baseline')];
  out.push(hit && baseline
    ? check('cache-hit throughput ≥ 1.1 × baseline', `${fmt(hit.rps.median / baseline.rps.median)} ×`, hit.rps.median >= 1.1 * baseline.rps.median)
    : check('cache-hit throughput ≥ 1.1 × baseline', 'not measured', undefined, 'needs h2load'));
  const grpcCeiling = row('grpc-ceiling');
  out.push(hit && grpcCeiling
    ? check('cache-hit throughput (native) ≥ 0.75 × gRPC-shaped ceiling', `${fmt(hit.rps.median / grpcCeiling.rps.median)} ×`, hit.rps.median >= 0.75 * grpcCeiling.rps.median)
    : check('cache-hit throughput (native) ≥ 0.75 × gRPC-shaped ceiling', 'not measured', undefined, 'needs h2load'));
  const [small, large] = [size(10), size(100_000)];
  if (small && large) {
    out.push(check('tree at 100k rules ≤ 2 × at 10 rules (median)', `${fmt(large.treeMedianNs.median / small.treeMedianNs.median)} ×`, large.treeMedianNs.median <= 2 * small.treeMedianNs.median));
    out.push(check('tree p99 at 100k rules < 2 µs', `${fmt(large.treeP99Ns.median / 1000, 3)} µs`, large.treeP99Ns.median < 2000));
    out.push(check('tree ≥ 300 × faster than reference at 100k rules', `${fmt(large.speedup, 0)} ×`, large.speedup >= 300));
    out.push(check('compile 100k rules ≤ 1 s', `${fmt(large.compileMs.median / 1000, 3)} s`, large.compileMs.median <= 1000));
  } else {
    out.push(check('tree and compile at 100k rules', 'not measured', undefined, 'smoke mode measures 10 and 1k rules only'));
  }
  for (const [alg, f] of Object.entries(t.identity)) {
    if (f.missUs !== undefined && f.rawUs !== undefined) out.push(check(`${alg} token verification on miss ≤ 1.5 × raw crypto.verify`, `${fmt(f.missUs / f.rawUs)} × (${fmt(f.missUs)} vs ${fmt(f.rawUs)} µs)`, f.missUs <= 1.5 * f.rawUs));
    if (f.hitUs !== undefined) out.push(check(`${alg} token verification on hit ≤ 1 µs`, `${fmt(f.hitUs, 3)} µs`, f.hitUs <= 1));
  }
  if (Object.keys(t.identity).length === 0) out.push(check('token verification miss / hit', 'not measured', undefined, 'identity bench skipped or unreadable'));
  out.push(check('decision-cache hit ≤ 1 µs (Authorizer.authorize, repeated request)', `${fmt(t.cacheHit.authorizeNs.median / 1000, 3)} µs`, t.cacheHit.authorizeNs.median <= 1000,
    `DecisionCache.get alone: ${fmt(t.cacheHit.getNs.median / 1000, 3)} µs`));
  const senderAlone = t.latency.find((r) => r.id === 'mw-hit-sender');
  const driverNote: Readonly<Record<string, string | undefined>> = {
    'mw-miss': senderAlone && `node sender; the same sender on the cache-hit server at this rate: p99 ${fmt(senderAlone.p99Us.median / 1000, 3)} ms`,
  };
  for (const id of ['mw-hit', 'mw-grpcjs-hit', 'mw-miss', 'mw-large']) {
    const l = t.latency.find((r) => r.id === id);
    if (l) out.push(check(`${id}: p99 at half saturation ≤ 1 ms`, `${fmt(l.p99Us.median / 1000, 3)} ms at ${Math.round(l.offeredRps)} req/s`, l.p99Us.median <= 1000, driverNote[id]));
  }
  const [one, two] = [row('mw-hit'), row('mw-2w')];
  const coreNote = t.cores < 4
    ? `this machine has ${t.cores} cores and h2load needs one of them: 2 workers cannot get 2 free cores here, so this measures the machine, not the scaling`
    : undefined;
  out.push(one && two
    ? check('2 workers ≥ 1.7 × 1 worker', `${fmt(two.rps.median / one.rps.median)} ×`, t.cores < 4 ? undefined : two.rps.median >= 1.7 * one.rps.median, coreNote)
    : check('2 workers ≥ 1.7 × 1 worker', 'not measured', undefined, t.load.find((r) => r.id === 'mw-2w')?.skipped ?? 'not run'));
  return out;
}
