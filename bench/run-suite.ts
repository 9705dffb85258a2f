/**
 * `npm run bench`: the micro benchmarks, the token-verification bench, then the load
 * benchmarks, and a report (Markdown + JSON) with pass/fail against the targets.
 *
 *   npm run bench                      full suite (≈ 8 minutes), report in bench/results/
 *   npm run bench -- --smoke --out DIR seconds, 1 round, no h2load install (what npm test runs)
 *   options: --rounds N --duration S --latency-duration S --out DIR
 *   partial runs (say so when you publish one): --only ID,ID (load contenders), --no-micro
 *   through a real Envoy (bench/envoy/, report in envoy.md + envoy.json): part of a full run;
 *   --envoy-only runs just that section (with --smoke: ~1 s per scenario), --no-envoy skips it;
 *   a smoke run of the whole suite skips it unless --envoy-only.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { envoySection } from './envoy/section.js';
import { writeFixtures } from './load/fixtures.js';
import { h2loadVersion } from './load/h2load.js';
import { runLoad, type LoadResults, type LoadSettings } from './load/run-load.js';
import { spread } from './lib/stats.js';
import type { MicroResults } from './micro/run-micro.js';
import { parseIdentityOutput, type IdentityFigures } from './report/identity-figures.js';
import { latencyRows, loadRows, targets, treeRows } from './report/summarize.js';
import { writeReport, type Report } from './report/write-report.js';

/** This file runs compiled, from <repo>/node_modules/.cache/meshwarden-bench/bench/. */
const BENCH_OUT = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    'latency-duration': { type: 'string' },
    out: { type: 'string' },
    'envoy-only': { type: 'boolean', default: false },
    'no-envoy': { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-micro': { type: 'boolean', default: false },
  },
});
const smoke = values.smoke;
const rounds = Number(values.rounds ?? (smoke ? 1 : 5));
const outDir = values.out ?? join(REPO_ROOT, 'bench/results');
const commands: string[] = [];
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function nodeScript(script: string, args: string[], timeoutS: number, nodeArgs: string[] = []): Promise<string> {
  const full = [...nodeArgs, join(BENCH_OUT, script), ...args];
  commands.push(`node ${full.join(' ')}`);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, full, { cwd: REPO_ROOT, timeout: timeoutS * 1000, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${script}: ${error.message}\n${stderr.slice(-2000)}`)) : resolve(stdout),
    ),
  );
}

/** h2load from Debian's nghttp2-client: installed when missing and we are root, unless smoke. */
function ensureH2load(): string | undefined {
  const found = h2loadVersion();
  if (found || smoke) return found;
  if (process.getuid?.() !== 0) {
    log('h2load is missing: install it with `sudo apt-get update && sudo apt-get install -y nghttp2-client`; h2load contenders are skipped');
    return undefined;
  }
  log('h2load is missing: apt-get install nghttp2-client');
  for (const args of [['update'], ['install', '-y', 'nghttp2-client']]) {
    commands.push(`apt-get ${args.join(' ')}`);
    spawnSync('apt-get', args, { stdio: 'ignore', timeout: 300_000 });
  }
  return h2loadVersion();
}

function environment(h2load: string | undefined): Record<string, unknown> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  const git = (...args: string[]) => spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : 'unknown');
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} (${os.arch()}), Debian ${read('/etc/debian_version')}`,
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
    node: process.version,
    h2load: h2load ?? 'not installed',
    meshwarden: { commit: git('rev-parse', '--short', 'HEAD'), uncommittedChanges: git('status', '--porcelain', '--', 'src').length > 0 },
    packages: Object.fromEntries(['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'jose', 'lru-cache', 'prom-client'].map((n) => [n, pkg(n)])),
  };
}

async function identityFigures(): Promise<{ figures: Record<string, IdentityFigures>; output: string }> {
  if (smoke) return { figures: {}, output: 'skipped in smoke mode' };
  try {
    const output = await nodeScript('bench/identity-verify.js', [], 300);
    return { figures: parseIdentityOutput(output), output };
  } catch (error) {
    return { figures: {}, output: `failed: ${(error as Error).message}` };
  }
}

/** The through-Envoy section (bench/envoy/): its own report, envoy.md + envoy.json, beside report.md. */
async function envoy(): Promise<void> {
  if (values['no-envoy'] || (smoke && !values['envoy-only'])) return;
  if (!smoke) ensureH2load();
  log('through Envoy (bench/envoy/)');
  const result = await envoySection({
    repoRoot: REPO_ROOT, outDir, smoke, log,
    ...(values.rounds ? { rounds } : {}),
  });
  if (result.skipped && process.env['CI']) throw new Error(`Envoy section skipped in CI: ${result.skipped}`);
}

async function main(): Promise<void> {
  if (values['envoy-only']) return envoy();
  const startedAt = new Date().toISOString();
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm run bench does)');
  const h2load = ensureH2load();
  const env = environment(h2load);
  const settings: LoadSettings = {
    repoRoot: REPO_ROOT, benchOut: BENCH_OUT, rounds,
    durationS: Number(values.duration ?? (smoke ? 0.5 : 4)),
    latencyDurationS: Number(values['latency-duration'] ?? (smoke ? 0.5 : 3)),
    warmupS: smoke ? 0.2 : 1,
    clients: 4, streams: 32, h2load: h2load !== undefined, log, commands,
    ...(values.only ? { only: values.only.split(',').map((id) => id.trim()) } : {}),
  };

  let micro: MicroResults = { tree: [], cacheHit: [], gcExposed: false, rounds: 0 };
  let identity: Awaited<ReturnType<typeof identityFigures>> = { figures: {}, output: 'skipped (--no-micro)' };
  if (!values['no-micro']) {
    log(`micro benchmarks (${rounds} round(s))`);
    micro = JSON.parse(await nodeScript('bench/micro/run-micro.js', ['--rounds', String(rounds), ...(smoke ? ['--smoke'] : [])], 900, ['--expose-gc'])) as MicroResults;
    log('token verification (bench/identity-verify.ts)');
    identity = await identityFigures();
  }

  log('load fixtures');
  const workDir = mkdtempSync(join(os.tmpdir(), 'meshwarden-bench-'));
  let load: LoadResults;
  try {
    const fixtures = await writeFixtures(workDir, smoke);
    load = await runLoad(fixtures, settings);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const rows = loadRows(load);
  const latency = latencyRows(load);
  const tree = treeRows(micro);
  const cacheHit = { authorizeNs: spread(micro.cacheHit.map((c) => c.authorizeNs)), getNs: spread(micro.cacheHit.map((c) => c.getNs)) };
  const report: Report = {
    kind: 'meshwarden-bench', version: 1, smoke, startedAt, finishedAt: new Date().toISOString(), environment: env,
    settings: { rounds, durationS: settings.durationS, latencyDurationS: settings.latencyDurationS, warmupS: settings.warmupS, clients: settings.clients, streamsPerClient: settings.streams, gcExposed: micro.gcExposed },
    load: { rows, latency, notes: load.notes, raw: load },
    micro: { tree, cacheHit, identity: identity.figures, identityOutput: identity.output, raw: micro },
    targets: targets({ load: rows, latency, tree, cacheHit, identity: identity.figures, cores: os.availableParallelism() }),
    commands,
  };
  mkdirSync(outDir, { recursive: true });
  const files = writeReport(outDir, 'report', report);
  log(`report: ${files.markdown}, ${files.json}`);
  await envoy();
}

await main();
