/**
 * The through-Envoy section: h2load sends plain HTTP requests to a real Envoy (one worker)
 * whose route answers with direct_response; in front of the router, nothing (Envoy alone),
 * Envoy's RBAC filter, or ext_authz (gRPC) to a real `meshwarden serve` or opa-envoy-plugin.
 * One process per stack, started once; rounds interleaved (the order rotating by one);
 * saturation, then latency at a common fixed rate and at half of each one's saturation;
 * CPU µs per request of every process from /proc; an agreement check that the three engines
 * decide the same requests alike; a CPU profile of meshwarden at saturation.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { cpuMicros } from '../lib/proc-stat.js';
import { procTimes, since, type ProcTimes } from './proc-times.js';
import { countsDelta, scrapeCounts, type ServerCounts } from '../lib/server-metrics.js';
import { spread } from '../lib/stats.js';
import { startServer, type RunningServer } from '../load/server-process.js';
import { envoyBootstrap, opaConfig, type EnvoyVariant } from './config.js';
import type { EnvoyFixtures, HttpRequest } from './fixtures.js';
import { runHttpLoad, type HttpLoadRun } from './h2load-http.js';
import { buildOpa, freePort, startEnvoy, startOpa, OPA_ENVOY_VERSION, type Proc } from './processes.js';
import { summarizeProfile, type CpuProfile, type ProfileSummary } from './profile.js';
import { hostOf, REGO_DECISION } from './translate.js';
import type { LatencyRun } from '../load/run-load.js';

export interface EnvoySettings {
  readonly repoRoot: string;
  readonly cacheDir: string;
  readonly smoke: boolean;
  readonly rounds: number;
  readonly durationS: number;
  readonly latencyDurationS: number;
  readonly warmupS: number;
  readonly clients: number;
  readonly streams: number;
  /** The common fixed rate for the first latency table, req/s. */
  readonly fixedRate: number;
  readonly h1: boolean;
  readonly envoyConcurrency: number;
  readonly profileS: number;
  readonly log: (line: string) => void;
  readonly commands: string[];
}

type AuthzKind = 'none' | 'rbac' | 'meshwarden' | 'opa';

export interface ScenarioInfo {
  readonly id: string;
  readonly label: string;
  readonly stack: string;
  readonly authz: AuthzKind;
  readonly rules?: number;
  readonly skipped?: string;
  readonly probeStatus?: number;
}

export interface EnvoyRun {
  readonly scenario: string;
  readonly round: number;
  readonly rps: number;
  readonly answered: number;
  readonly status2xx: number;
  readonly status4xx: number;
  readonly otherErrors: number;
  readonly seconds: number;
  readonly envoyCpuUsPerRequest: number;
  readonly authzCpuUsPerRequest?: number;
  /** stime / (utime + stime): the share of the process's CPU time spent in the kernel (loopback TCP, epoll, …). */
  readonly envoyKernelShare?: number;
  readonly authzKernelShare?: number;
  readonly server?: ServerCounts;
}

/** A latency run of the load section's shape, by scenario instead of contender. */
export interface EnvoyLatencyRun extends Omit<LatencyRun, 'contender'> {
  readonly scenario: string;
  readonly pass: 'fixed' | 'half' | 'paired';
  /** For 'paired': the scenario whose half-saturation rate this Envoy-alone run used. */
  readonly pairedWith?: string;
  readonly samples: number;
  /** meshwarden's own view (meshwarden_check_duration_seconds over the run): the bucket bounds, µs, that hold p50 and p99. */
  readonly server?: {
    readonly p50UsAtMost: number; readonly p99UsAtMost: number; readonly count: number;
    /** Node's event-loop delay over the run (monitorEventLoopDelay via prom-client): how late meshwarden's loop got to run. */
    readonly eventLoopDelayP99Us: number; readonly eventLoopDelayMaxUs: number;
    /** GC pauses over the run: how many, their total, the bucket bound that holds the longest. */
    readonly gcPauses: number; readonly gcTotalUs: number; readonly gcLongestUsAtMost: number;
  };
}

export interface Agreement {
  readonly requests: number;
  readonly allowedByMeshwarden: number;
  /** Per engine: how many answers equal meshwarden's, and the first few that differ. */
  readonly engines: Record<string, { readonly agree: number; readonly differ: { path: string; method: string; service: string; meshwarden: number; other: number }[] }>;
}

export interface EnvoyResults {
  readonly scenarios: ScenarioInfo[];
  readonly runs: EnvoyRun[];
  readonly latency: EnvoyLatencyRun[];
  readonly agreement?: Agreement;
  readonly profile?: ProfileSummary & { readonly scenario: string; readonly envoyCpuUsPerRequest: number; readonly meshwardenCpuUsPerRequest: number; readonly rps: number };
  readonly notes: string[];
  readonly versions: Record<string, string>;
}

interface Stack {
  readonly key: string;
  readonly port: number;
  readonly envoy: Proc;
  readonly authzPids: number[];
  readonly admin?: string;
  stop(): Promise<void>;
}

interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly stack: string;
  readonly authz: AuthzKind;
  readonly rules?: number;
  readonly request: HttpRequest;
  readonly paths?: readonly string[];
}

const n = (v: number) => v.toLocaleString('en');

function scenarios(f: EnvoyFixtures): Scenario[] {
  const { small, mid, large } = f.sets;
  const mwRows = (set: typeof small, stack: string, tag: string): Scenario[] => [
    { id: `mw-${tag}-hit`, label: `Envoy + meshwarden, ${n(set.rules)} rules, decision-cache hit`, stack, authz: 'meshwarden', rules: set.rules, request: set.allowed },
    { id: `mw-${tag}-miss`, label: `Envoy + meshwarden, ${n(set.rules)} rules, decision-cache miss (${n(set.missPaths.length)} distinct paths)`, stack, authz: 'meshwarden', rules: set.rules, request: set.allowed, paths: set.missPaths },
  ];
  return [
    { id: 'envoy-alone', label: 'Envoy alone (direct_response)', stack: 'direct', authz: 'none', request: mid.allowed },
    { id: 'envoy-rbac', label: `Envoy + RBAC filter, ${n(mid.rules)} rules`, stack: 'rbac', authz: 'rbac', rules: mid.rules, request: mid.allowed },
    { id: 'envoy-opa', label: `Envoy + opa-envoy-plugin ${OPA_ENVOY_VERSION}, ${n(mid.rules)} rules in Rego`, stack: 'opa', authz: 'opa', rules: mid.rules, request: mid.allowed },
    ...mwRows(small, 'mw-10', '10'),
    ...mwRows(mid, 'mw-1k', '1k'),
    ...mwRows(large, 'mw-100k', '100k'),
    { id: 'mw-1k-jwt', label: `Envoy + meshwarden, ${n(mid.rules)} rules, JWT-SVID (ES256), token- and decision-cache hit`, stack: 'mw-1k', authz: 'meshwarden', rules: mid.rules, request: f.jwtRequest },
    { id: 'mw-grpcjs-1k-hit', label: `Envoy + meshwarden (grpc.transport: grpc-js), ${n(mid.rules)} rules, decision-cache hit`, stack: 'mw-grpcjs-1k', authz: 'meshwarden', rules: mid.rules, request: mid.allowed },
  ];
}

export async function runEnvoySection(f: EnvoyFixtures, s: EnvoySettings): Promise<EnvoyResults> {
  const notes: string[] = [];
  const stacks = new Map<string, Stack>();
  const failed = new Map<string, string>();
  const versions: Record<string, string> = {};
  const workDir = f.dir;
  const all = scenarios(f);

  const opa = buildOpa(s.cacheDir, s.log, s.smoke);
  s.commands.push(...opa.commands);
  if (opa.skipped) {
    failed.set('opa', opa.skipped);
    s.log(`skipping Envoy + OPA: ${opa.skipped}`);
  } else versions['opa-envoy-plugin'] = OPA_ENVOY_VERSION;

  const envoyStack = async (key: string, variant: EnvoyVariant, services: readonly string[], authz: { pids: number[]; admin?: string; stop(): Promise<void> } | undefined) => {
    const port = await freePort();
    const adminPort = await freePort();
    const file = join(workDir, `envoy-${key}.json`);
    writeFileSync(file, JSON.stringify(envoyBootstrap({ listenPort: port, adminPort, services, variant }), null, 1));
    const envoy = await startEnvoy(`envoy-${key}`, file, adminPort, s.envoyConcurrency);
    s.commands.push(`${envoy.command}   # ${key}`);
    const stack: Stack = {
      key, port, envoy, authzPids: authz?.pids ?? [], ...(authz?.admin ? { admin: authz.admin } : {}),
      stop: async () => {
        await envoy.stop();
        await authz?.stop();
      },
    };
    stacks.set(key, stack);
    s.log(`started ${key}: Envoy pid ${envoy.pid} on 127.0.0.1:${port}${authz ? `, authz pids ${authz.pids.join(', ')}` : ''}`);
  };
  const meshwarden = async (key: string, size: 'small' | 'mid' | 'large', transport: 'native' | 'grpc-js', nodeArgs: string[] = []): Promise<RunningServer> => {
    const config = f.meshwardenConfig(key, size, transport);
    const server = await startServer({ name: key, args: [...nodeArgs, 'dist/cli/main.js', 'serve', '--config', config, '--grpc', '127.0.0.1:0', '--admin', '127.0.0.1:0'], cwd: s.repoRoot, startTimeoutMs: 240_000 });
    s.commands.push(`${server.command}   # ${key}`);
    return server;
  };
  const tryStart = async (key: string, start: () => Promise<void>) => {
    if (failed.has(key)) return;
    try {
      await start();
    } catch (error) {
      const message = (error as Error).message;
      const first = /not available yet/.test(message) ? (/[^\n]*not available yet[^\n]*/.exec(message)?.[0] ?? message) : message.split('\n').slice(0, 3).join(' | ');
      failed.set(key, first.trim());
      s.log(`${key} did not start: ${first}`);
    }
  };

  try {
    const midServices = f.sets.mid.services;
    await tryStart('direct', () => envoyStack('direct', { kind: 'direct' }, midServices, undefined));
    await tryStart('rbac', () => envoyStack('rbac', { kind: 'rbac', filters: f.rbacFilters }, midServices, undefined));
    await tryStart('opa', async () => {
      const [grpcPort, httpPort] = [await freePort(), await freePort()];
      const cfg = join(workDir, 'opa-config.json');
      writeFileSync(cfg, JSON.stringify(opaConfig(grpcPort, REGO_DECISION)));
      const proc = await startOpa(opa.binary!, cfg, f.regoFile, httpPort, workDir);
      s.commands.push(`${proc.command}   # opa`);
      await envoyStack('opa', { kind: 'ext-authz', port: grpcPort }, midServices, { pids: [proc.pid], stop: () => proc.stop() }).catch(async (e: unknown) => {
        await proc.stop();
        throw e;
      });
    });
    for (const [key, size, transport] of [['mw-10', 'small', 'native'], ['mw-1k', 'mid', 'native'], ['mw-100k', 'large', 'native'], ['mw-grpcjs-1k', 'mid', 'grpc-js']] as const) {
      await tryStart(key, async () => {
        const server = await meshwarden(key, size, transport);
        const port = Number(server.grpc.slice(server.grpc.lastIndexOf(':') + 1));
        await envoyStack(key, { kind: 'ext-authz', port }, f.sets[size].services, { pids: [...server.pids], ...(server.admin ? { admin: server.admin } : {}), stop: () => server.stop() }).catch(async (e: unknown) => {
          await server.stop();
          throw e;
        });
      });
    }

    const infos: ScenarioInfo[] = [];
    const active: Scenario[] = [];
    for (const c of all) {
      const describe = { id: c.id, label: c.label, stack: c.stack, authz: c.authz, ...(c.rules ? { rules: c.rules } : {}) };
      const stack = stacks.get(c.stack);
      if (!stack) {
        infos.push({ ...describe, skipped: failed.get(c.stack) ?? `${c.stack} did not start` });
        continue;
      }
      const status = await send(stack.port, c.request).catch(() => -1);
      if (status !== 200) notes.push(`${c.id}: probe answered HTTP ${status} (expected 200)`);
      infos.push({ ...describe, probeStatus: status });
      active.push(c);
    }

    const agreement = await agreementCheck(f, stacks, s).catch((e: Error) => {
      notes.push(`agreement check failed: ${e.message}`);
      return undefined;
    });

    const urlFiles = new Map<string, string>();
    const target = (c: Scenario) => {
      const stack = stacks.get(c.stack)!;
      if (!c.paths) return { url: `http://127.0.0.1:${stack.port}${c.request.path}` };
      let file = urlFiles.get(c.id);
      if (!file) {
        file = join(workDir, `urls-${c.id}.txt`);
        writeFileSync(file, c.paths.map((p) => `http://127.0.0.1:${stack.port}${p}`).join('\n') + '\n');
        urlFiles.set(c.id, file);
      }
      return { urlFile: file };
    };
    const headersOf = (c: Scenario) => ({ ':authority': hostOf(c.request.service), ...c.request.headers });
    const load = (c: Scenario, durationS: number, rate?: number, logTag?: string): Promise<HttpLoadRun> => {
      const logFile = rate === undefined ? undefined : join(workDir, `h2load-${c.id}-${logTag}.log`);
      return runHttpLoad({
        ...target(c), headers: headersOf(c), clients: s.clients, streams: rate === undefined ? s.streams : 1, durationS, h1: s.h1,
        ...(rate !== undefined ? { rpsPerClient: Math.max(1, Math.round(rate / s.clients)) } : {}), ...(logFile ? { logFile } : {}),
      });
    };

    // Saturation rounds.
    for (const c of active) await load(c, s.warmupS); // warm-up (JIT, connections), not recorded
    const runs: EnvoyRun[] = [];
    for (let round = 1; round <= s.rounds; round++) {
      for (const c of rotate(active, round - 1)) {
        const stack = stacks.get(c.stack)!;
        const before = stack.admin ? await scrapeCounts(stack.admin) : undefined;
        const envoyBefore = procTimes([stack.envoy.pid]);
        const authzBefore = procTimes(stack.authzPids);
        const m = await load(c, s.durationS);
        const envoyTimes = since(envoyBefore, procTimes([stack.envoy.pid]));
        const authzTimes = since(authzBefore, procTimes(stack.authzPids));
        const envoyCpu = envoyTimes.userUs + envoyTimes.systemUs;
        const authzCpu = authzTimes.userUs + authzTimes.systemUs;
        const kernel = (t: ProcTimes) => (t.userUs + t.systemUs > 0 ? t.systemUs / (t.userUs + t.systemUs) : Number.NaN);
        const counts = before ? countsDelta(await scrapeCounts(stack.admin!), before) : undefined;
        if (round === 1) s.commands.push(m.command);
        const per = (cpu: number) => (m.answered > 0 ? cpu / m.answered : Number.NaN);
        runs.push({
          scenario: c.id, round, rps: m.answered / m.seconds, answered: m.answered, status2xx: m.status2xx, status4xx: m.status4xx,
          otherErrors: m.status5xx + m.errored, seconds: m.seconds, envoyCpuUsPerRequest: per(envoyCpu), envoyKernelShare: kernel(envoyTimes),
          ...(stack.authzPids.length ? { authzKernelShare: kernel(authzTimes) } : {}),
          ...(stack.authzPids.length ? { authzCpuUsPerRequest: per(authzCpu) } : {}), ...(counts ? { server: counts } : {}),
        });
        s.log(`envoy round ${round}/${s.rounds} ${c.id.padEnd(17)} ${Math.round(m.answered / m.seconds).toString().padStart(6)} req/s  Envoy ${per(envoyCpu).toFixed(1)} µs/req${stack.authzPids.length ? `  authz ${per(authzCpu).toFixed(1)} µs/req` : ''}`);
      }
    }

    // Latency: the common fixed rate, then half of each one's saturation, interleaved too.
    const saturation = (id: string) => spread(runs.filter((r) => r.scenario === id).map((r) => r.rps)).median;
    const latency: EnvoyLatencyRun[] = [];
    const alone = active.find((c) => c.id === 'envoy-alone');
    const pairedWith = active.find((c) => c.id === 'mw-1k-hit');
    type Job = { c: Scenario; pass: EnvoyLatencyRun['pass']; rate: number; pairedWith?: string };
    const jobs: Job[] = [
      ...active.map((c): Job => ({ c, pass: 'fixed', rate: s.fixedRate })),
      ...active.map((c): Job => ({ c, pass: 'half', rate: saturation(c.id) / 2 })),
      ...(alone && pairedWith ? [{ c: alone, pass: 'paired', rate: saturation(pairedWith.id) / 2, pairedWith: pairedWith.id } as Job] : []),
    ].filter((j) => j.rate > 0);
    for (let round = 1; round <= s.rounds; round++) {
      for (const j of rotate(jobs, round - 1)) {
        const admin = stacks.get(j.c.stack)!.admin;
        const bucketsBefore = admin ? await checkDurationBuckets(admin) : undefined;
        const m = await load(j.c, s.latencyDurationS, j.rate, `${j.pass}-${round}`);
        const server = admin && bucketsBefore ? serverPercentiles(await checkDurationBuckets(admin), bucketsBefore) : undefined;
        if (round === 1) s.commands.push(m.command);
        const l = m.latencyUs!;
        latency.push({
          scenario: j.c.id, pass: j.pass, ...(j.pairedWith ? { pairedWith: j.pairedWith } : {}), round, offeredRps: j.rate,
          achievedRps: m.answered / m.seconds, p50Us: l.p50, p90Us: l.p90, p99Us: l.p99, maxUs: l.max, samples: l.n, ...(server ? { server } : {}),
        });
      }
      s.log(`envoy latency round ${round}/${s.rounds} done (${jobs.length} runs)`);
    }

    const profile = s.profileS > 0 && !failed.has('mw-1k') ? await profileRun(f, s, meshwarden, envoyStack, stacks, headersOf, notes) : undefined;
    return { scenarios: infos, runs, latency, ...(agreement ? { agreement } : {}), ...(profile ? { profile } : {}), notes, versions };
  } finally {
    await Promise.all([...stacks.values()].map((stack) => stack.stop()));
  }
}

/**
 * meshwarden (1,000 rules, decision-cache hit) again, under `node --cpu-prof`, loaded at
 * saturation through its own Envoy: where its CPU goes, and each process's share.
 */
async function profileRun(
  f: EnvoyFixtures, s: EnvoySettings,
  meshwarden: (key: string, size: 'mid', transport: 'native', nodeArgs: string[]) => Promise<RunningServer>,
  envoyStack: (key: string, variant: EnvoyVariant, services: readonly string[], authz: { pids: number[]; admin?: string; stop(): Promise<void> }) => Promise<void>,
  stacks: Map<string, Stack>,
  headersOf: (c: Scenario) => Record<string, string>,
  notes: string[],
): Promise<EnvoyResults['profile'] | undefined> {
  const dir = join(f.dir, 'cpu-profile');
  mkdirSync(dir, { recursive: true });
  try {
    const server = await meshwarden('mw-1k-profiled', 'mid', 'native', ['--cpu-prof', '--cpu-prof-dir', dir]);
    const port = Number(server.grpc.slice(server.grpc.lastIndexOf(':') + 1));
    await envoyStack('mw-1k-profiled', { kind: 'ext-authz', port }, f.sets.mid.services, { pids: [...server.pids], stop: () => server.stop() });
    const stack = stacks.get('mw-1k-profiled')!;
    const c = { id: 'mw-1k-hit', request: f.sets.mid.allowed } as Scenario;
    const spec = { url: `http://127.0.0.1:${stack.port}${c.request.path}`, headers: headersOf(c), clients: s.clients, streams: s.streams, h1: s.h1 };
    await runHttpLoad({ ...spec, durationS: s.warmupS });
    const e0 = cpuMicros([stack.envoy.pid]);
    const m0 = cpuMicros(stack.authzPids);
    const from = Number(process.hrtime.bigint() / 1000n);
    const m = await runHttpLoad({ ...spec, durationS: s.profileS });
    const to = Number(process.hrtime.bigint() / 1000n);
    const envoyCpu = cpuMicros([stack.envoy.pid]) - e0;
    const mwCpu = cpuMicros(stack.authzPids) - m0;
    s.commands.push(`${m.command}   # under node --cpu-prof`);
    await stack.stop();
    stacks.delete('mw-1k-profiled');
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    let summary: ProfileSummary;
    try {
      summary = summarizeProfile(profile, s.repoRoot, [from, to]);
    } catch (error) {
      notes.push(`profile: ${(error as Error).message}; the whole profile is summarized, start-up included`);
      summary = summarizeProfile(profile, s.repoRoot);
    }
    return { scenario: 'mw-1k-hit', rps: m.answered / m.seconds, envoyCpuUsPerRequest: envoyCpu / m.answered, meshwardenCpuUsPerRequest: mwCpu / m.answered, ...summary };
  } catch (error) {
    notes.push(`profile run failed: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One request through Envoy (h2, prior knowledge); resolves to the HTTP status. */
function send(port: number, r: HttpRequest, session?: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const own = session ?? http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => finish(new Error('no answer within 10 s')), 10_000);
    const onError = (e: Error) => finish(e);
    const finish = (error?: Error, status?: number) => {
      clearTimeout(timer);
      own.off('error', onError);
      if (!session) own.close();
      if (error) reject(error);
      else resolve(status!);
    };
    own.once('error', onError);
    const stream = own.request({ ':method': r.method, ':path': r.path, ':authority': hostOf(r.service), ...r.headers });
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', () => {});
    stream.on('error', (e) => finish(e));
    stream.on('close', () => finish(undefined, status));
    stream.end();
  });
}

async function agreementCheck(f: EnvoyFixtures, stacks: Map<string, Stack>, s: EnvoySettings): Promise<Agreement | undefined> {
  const mw = stacks.get('mw-1k');
  if (!mw) return undefined;
  const answers = async (stack: Stack) => {
    const session = http2.connect(`http://127.0.0.1:${stack.port}`);
    try {
      const out: number[] = [];
      for (const r of f.agreement) out.push(await send(stack.port, r, session));
      return out;
    } finally {
      session.close();
    }
  };
  const reference = await answers(mw);
  const engines: Agreement['engines'] = {};
  for (const key of ['rbac', 'opa', 'mw-grpcjs-1k']) {
    const stack = stacks.get(key);
    if (!stack) continue;
    const got = await answers(stack);
    const differ = f.agreement.flatMap((r, i) => (got[i] === reference[i] ? [] : [{ path: r.path, method: r.method, service: r.service, meshwarden: reference[i]!, other: got[i]! }]));
    engines[key] = { agree: f.agreement.length - differ.length, differ: differ.slice(0, 5) };
  }
  if (reference.every((x) => x !== 200) || reference.every((x) => x === 200)) s.log(`agreement: meshwarden answered ${reference[0]} to every request: the check says little`);
  s.log(`agreement: ${Object.entries(engines).map(([k, v]) => `${k} ${v.agree}/${f.agreement.length}`).join(', ')}`);
  return { requests: f.agreement.length, allowedByMeshwarden: reference.filter((x) => x === 200).length, engines };
}

interface ServerScrape {
  /** Cumulative bucket counts of meshwarden_check_duration_seconds, by upper bound in seconds. */
  readonly check: Map<number, number>;
  /** The same for nodejs_gc_duration_seconds (all kinds). */
  readonly gc: Map<number, number>;
  readonly gcSumS: number;
  /** prom-client's event-loop delay figures: its histogram restarts at every scrape, so these cover the time since the previous one. */
  readonly loopP99S: number;
  readonly loopMaxS: number;
}

async function checkDurationBuckets(admin: string): Promise<ServerScrape> {
  const response = await fetch(`http://${admin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const check = new Map<number, number>();
  const gc = new Map<number, number>();
  let gcSumS = 0;
  let loopP99S = Number.NaN;
  let loopMaxS = Number.NaN;
  const value = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
  for (const line of (await response.text()).split('\n')) {
    const bucket = /^(meshwarden_check_duration_seconds|nodejs_gc_duration_seconds)_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (bucket) {
      const into = bucket[1] === 'nodejs_gc_duration_seconds' ? gc : check;
      const le = bucket[2] === '+Inf' ? Number.POSITIVE_INFINITY : Number(bucket[2]);
      into.set(le, (into.get(le) ?? 0) + Number(bucket[3]));
    } else if (line.startsWith('nodejs_gc_duration_seconds_sum')) gcSumS += value(line);
    else if (line.startsWith('nodejs_eventloop_lag_p99_seconds ')) loopP99S = value(line);
    else if (line.startsWith('nodejs_eventloop_lag_max_seconds ')) loopMaxS = value(line);
  }
  return { check, gc, gcSumS, loopP99S, loopMaxS };
}

function bucketQuantile(after: Map<number, number>, before: Map<number, number>, q: number): { count: number; atMostS: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (after.get(Number.POSITIVE_INFINITY) ?? 0) - (before.get(Number.POSITIVE_INFINITY) ?? 0);
  for (const le of bounds) if (count > 0 && (after.get(le) ?? 0) - (before.get(le) ?? 0) >= q * count) return { count, atMostS: le };
  return { count, atMostS: Number.NaN };
}

/** prom-client's default eventLoopMonitoringPrecision (meshwarden does not change it). */
const LOOP_RESOLUTION_S = 0.01;

function serverPercentiles(after: ServerScrape, before: ServerScrape): EnvoyLatencyRun['server'] {
  const p50 = bucketQuantile(after.check, before.check, 0.5);
  if (p50.count <= 0) return undefined;
  const gcMax = bucketQuantile(after.gc, before.gc, 1);
  return {
    p50UsAtMost: p50.atMostS * 1e6, p99UsAtMost: bucketQuantile(after.check, before.check, 0.99).atMostS * 1e6, count: p50.count,
    // monitorEventLoopDelay records whole timer intervals: prom-client's 10 ms resolution is subtracted to leave the lateness.
    eventLoopDelayP99Us: Math.max(0, after.loopP99S - LOOP_RESOLUTION_S) * 1e6, eventLoopDelayMaxUs: Math.max(0, after.loopMaxS - LOOP_RESOLUTION_S) * 1e6,
    gcPauses: gcMax.count, gcTotalUs: (after.gcSumS - before.gcSumS) * 1e6, gcLongestUsAtMost: gcMax.atMostS * 1e6,
  };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
