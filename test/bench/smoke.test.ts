/**
 * The benchmark suite in smoke mode (tiny durations, one round, no timing assertions), so the
 * bench code cannot rot: it must compile, run every contender it can, and write a report of
 * the expected shape. Contenders that need h2load are skipped where it is not installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server-process.js';

const BENCH_OUT = join(REPO_ROOT, 'node_modules/.cache/meshwarden-bench');
const out = mkdtempSync(join(tmpdir(), 'meshwarden-bench-smoke-'));
const hasH2load = spawnSync('h2load', ['--version']).status === 0;

interface SmokeReport {
  kind: string;
  smoke: boolean;
  environment: Record<string, unknown>;
  load: { rows: { id: string; skipped?: string; rps: { n: number }; decisions?: { allow: number } }[]; latency: unknown[]; notes: string[] };
  micro: { tree: { rules: number }[]; cacheHit: { authorizeNs: { median: number } } };
  targets: { name: string; pass: boolean | null }[];
  commands: string[];
}

let report: SmokeReport;
let markdown: string;
let run: { status: number | null; stderr: string };

beforeAll(() => {
  // Type errors are the typecheck's business; what tsc emits is what runs.
  spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.json'], { cwd: REPO_ROOT });
  run = spawnSync(process.execPath, [join(BENCH_OUT, 'bench/run-suite.js'), '--smoke', '--out', out], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 150_000 });
  if (existsSync(join(out, 'report.json'))) report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SmokeReport;
  if (existsSync(join(out, 'report.md'))) markdown = readFileSync(join(out, 'report.md'), 'utf8');
}, 180_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench -- --smoke', () => {
  it('exits 0 and writes report.json and report.md', () => {
    expect(run.stderr).toContain('bench: report:');
    expect(run.status).toBe(0);
    expect(report.kind).toBe('meshwarden-bench');
    expect(report.smoke).toBe(true);
  });

  it('records the machine, the versions and every command it ran', () => {
    expect(report.environment).toMatchObject({ node: process.version });
    expect(report.environment['cores']).toBeGreaterThan(0);
    expect(report.commands.some((c) => c.includes('run-micro.js'))).toBe(true);
    expect(report.commands.some((c) => c.includes('dist/cli/main.js serve'))).toBe(true);
  });

  it('measures every contender it can, with decisions counted by meshwarden itself', () => {
    const ran = report.load.rows.filter((row) => row.skipped === undefined);
    const skipped = report.load.rows.filter((row) => row.skipped !== undefined);
    if (!hasH2load) expect(skipped.every((row) => row.skipped === 'h2load not installed')).toBe(true);
    expect(ran.map((row) => row.id)).toEqual(expect.arrayContaining(['mw-miss', 'mw-jwt-miss', 'mw-hit-sender']));
    for (const row of ran) expect(row.rps.n).toBe(1);
    for (const row of ran.filter((r) => r.id.startsWith('mw-'))) expect(row.decisions?.allow).toBeGreaterThan(0);
    expect(report.load.notes).toEqual([]);
  });

  it('runs the micro benchmarks and prints a verdict line per target', () => {
    expect(report.micro.tree.map((t) => t.rules)).toEqual([12, 1002]);
    expect(report.micro.cacheHit.authorizeNs.median).toBeGreaterThan(0);
    expect(report.targets.length).toBeGreaterThanOrEqual(5);
    for (const heading of ['## Targets', '## Load: throughput at saturation', '## Load: latency', '## Micro: decision tree', '## Machine and versions', '## Commands']) {
      expect(markdown).toContain(heading);
    }
  });
});
