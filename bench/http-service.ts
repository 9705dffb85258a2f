/**
 * The HTTP-service Check beside the gRPC Check, under load, on one `meshwarden serve` (from
 * dist/) with both listeners and the 1,000-rule set, the allowed request of the load bench
 * repeated (decision-cache hit) on each:
 * - grpc: h2load over HTTP/2, 4 connections × 32 streams, the CheckRequest frame (as mw-hit);
 * - http: `h2load --h1`, 32 connections × 1 request at a time (Envoy's HTTP client does not
 *   pipeline), the same request as Envoy's http_service sends it: the method, path_prefix +
 *   path, host, the caller's SPIFFE ID and the destination in the x-meshwarden-* headers Envoy adds.
 * Each run: decisions per second counted by the server (`meshwarden_checks_total`, delta), and
 * server CPU µs per decision (utime + stime from /proc, delta). Rounds alternate the order;
 * the summary gives medians with min–max. Bounded: rounds × 2 runs of `--duration` seconds (plus
 * a 1 s warm-up each), on loopback. Not part of `npm run bench`:
 *
 *   npm run build && npx tsc -p bench/tsconfig.json
 *   node node_modules/.cache/meshwarden-bench/bench/http-service.js --rounds 5 --duration 5
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { checkRequestFrame, type CheckMessageOptions } from './lib/grpc-frame.js';
import { generatePolicies, workloadFor } from './lib/policy-set.js';
import { policiesYaml } from './lib/policy-yaml.js';
import { cpuMicros } from './lib/proc-stat.js';
import { countsDelta, scrapeCounts } from './lib/server-metrics.js';
import { round, spread } from './lib/stats.js';
import { allowedRequest } from './load/fixtures.js';
import { runH2load } from './load/h2load.js';
import { startServer, type RunningServer } from './load/server-process.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '5' } } });
const ROUNDS = Number(values.rounds);
const DURATION_S = Number(values.duration);
const PREFIX = '/authz';
const REPO = new URL('../../../../', import.meta.url).pathname;

interface Run {
  readonly mode: 'grpc' | 'http';
  readonly decisionsPerSecond: number;
  readonly cpuUsPerDecision: number;
  readonly allowed: number;
  readonly decisions: number;
}

const dir = mkdtempSync(join(tmpdir(), 'meshwarden-bench-http-'));
const workload = workloadFor(1000);
const policies = generatePolicies(workload);
const allowed = allowedRequest(policies, workload);
writeFileSync(join(dir, 'policies.yaml'), policiesYaml(policies));
const frame = join(dir, 'allowed.bin');
writeFileSync(frame, checkRequestFrame(allowed));
writeFileSync(join(dir, 'meshwarden.yaml'), [
  `policies: ["${join(dir, 'policies.yaml')}"]`,
  'decisionLog: { output: "off" }',
  'reload: { watch: false }',
  'cache: { decisions: { max: 100000 } }',
  `http: { address: "127.0.0.1:0", pathPrefix: "${PREFIX}" }`,
].join('\n'));

const server = await startServer({
  name: 'meshwarden',
  cwd: REPO,
  args: [join(REPO, 'dist/cli/main.js'), 'serve', '--config', join(dir, 'meshwarden.yaml'), '--grpc', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
});
try {
  const runs: Run[] = [];
  for (const mode of ['grpc', 'http'] as const) await load(server, mode, 1); // warm-up, not recorded
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['grpc', 'http'] as const) : (['http', 'grpc'] as const);
    for (const mode of order) {
      const run = await measured(server, mode);
      runs.push(run);
      process.stdout.write(`${JSON.stringify({ round: r, ...run })}\n`);
    }
  }
  summarize(runs);
} finally {
  await server.stop();
}

async function measured(target: RunningServer, mode: Run['mode']): Promise<Run> {
  const before = await scrapeCounts(target.admin!);
  const cpuBefore = cpuMicros(target.pids);
  const seconds = await load(target, mode, DURATION_S);
  const cpu = cpuMicros(target.pids) - cpuBefore;
  const counts = countsDelta(await scrapeCounts(target.admin!), before);
  return {
    mode,
    decisionsPerSecond: round(counts.checks / seconds, 0),
    cpuUsPerDecision: round(cpu / counts.checks, 1),
    allowed: counts.allow,
    decisions: counts.checks,
  };
}

/** One bounded run; resolves with the seconds it lasted. */
async function load(target: RunningServer, mode: Run['mode'], seconds: number): Promise<number> {
  if (mode === 'grpc') return (await runH2load({ target: target.grpc, bodyFile: frame, clients: 4, streams: 32, durationS: seconds })).seconds;
  return runH1(target.http!, seconds, allowed);
}

/** h2load --h1 with the request Envoy's HTTP client would send for `request`. */
function runH1(target: string, seconds: number, request: CheckMessageOptions): Promise<number> {
  const headers = [
    `:method: ${request.method}`,
    `:authority: ${request.host}`,
    'x-request-id: bench',
    `x-meshwarden-source-principal: ${request.principal}`,
    `x-meshwarden-context-service: ${request.service}`,
    ...Object.entries(request.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ].flatMap((header) => ['-H', header]);
  const args = ['--h1', '-t', '1', '-c', '32', '-m', '1', '-D', `${seconds * 1000}ms`, ...headers, `http://${target}${PREFIX}${request.path}`];
  return new Promise((resolve, reject) => {
    execFile('h2load', args, { timeout: (seconds + 60) * 1000, maxBuffer: 1 << 20 }, (error, stdout) => {
      const finished = /finished in ([\d.]+)(m?s)/.exec(stdout);
      if (error || !finished) return reject(new Error(`h2load ${args.join(' ')}: ${error?.message ?? 'unrecognised output'}\n${stdout}`));
      resolve(Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1));
    });
  });
}

function summarize(runs: readonly Run[]): void {
  const rows = (['grpc', 'http'] as const).map((mode) => {
    const of = runs.filter((run) => run.mode === mode);
    const rate = spread(of.map((run) => run.decisionsPerSecond));
    const cpu = spread(of.map((run) => run.cpuUsPerDecision));
    const allAllowed = of.every((run) => run.allowed === run.decisions);
    return `| ${mode} | ${rate.median} (${rate.min}–${rate.max}) | ${cpu.median} (${cpu.min}–${cpu.max}) | ${allAllowed ? 'all allowed' : 'NOT all allowed'} |`;
  });
  process.stdout.write(['', '| Check over | decisions/s, median (min–max) | server CPU µs per decision | answers |', '| --- | --- | --- | --- |', ...rows, ''].join('\n'));
}
