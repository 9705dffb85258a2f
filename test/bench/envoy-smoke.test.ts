/**
 * The through-Envoy bench section in smoke mode (~1 s per scenario, one round, no timing
 * assertions): it must start every stack it can, agree with RBAC and OPA on the same policy,
 * and write envoy.md / envoy.json. Skipped where envoy or h2load is missing and CI is unset;
 * under CI a missing tool fails it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server-process.js';

const BENCH_OUT = join(REPO_ROOT, 'node_modules/.cache/meshwarden-bench');
const hasEnvoy = spawnSync('envoy', ['--version']).status === 0;
const hasH2load = spawnSync('h2load', ['--version']).status === 0;
const inCi = Boolean(process.env['CI']);
const runnable = (hasEnvoy && hasH2load) || inCi;

interface EnvoyReportShape {
  kind: string;
  smoke: boolean;
  throughput: { id: string; skipped?: string; rps?: { n: number }; status2xxShare?: number }[];
  latency: { id: string; pass: string }[];
  targets: { name: string; pass: boolean | null }[];
  results: { scenarios: { id: string; skipped?: string; probeStatus?: number }[]; agreement?: { requests: number; engines: Record<string, { agree: number }> }; notes: string[] };
  commands: string[];
}

describe.skipIf(!runnable)('npm run bench -- --smoke --envoy-only', () => {
  const out = mkdtempSync(join(tmpdir(), 'meshwarden-bench-envoy-smoke-'));
  let run: { status: number | null; stderr: string };
  let report: EnvoyReportShape;
  let markdown = '';

  beforeAll(() => {
    expect(hasEnvoy, 'envoy is not on PATH (CI is set: the Envoy bench must run)').toBe(true);
    expect(hasH2load, 'h2load is missing (CI is set: the Envoy bench must run)').toBe(true);
    spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.json'], { cwd: REPO_ROOT });
    run = spawnSync(process.execPath, [join(BENCH_OUT, 'bench/run-suite.js'), '--smoke', '--envoy-only', '--out', out], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 170_000 });
    if (existsSync(join(out, 'envoy.json'))) report = JSON.parse(readFileSync(join(out, 'envoy.json'), 'utf8')) as EnvoyReportShape;
    if (existsSync(join(out, 'envoy.md'))) markdown = readFileSync(join(out, 'envoy.md'), 'utf8');
  }, 180_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('exits 0 and writes envoy.json and envoy.md', () => {
    expect(run.stderr).toContain('bench: Envoy report:');
    expect(run.status).toBe(0);
    expect(report.kind).toBe('meshwarden-bench-envoy');
    expect(report.smoke).toBe(true);
  });

  it('measures Envoy alone, Envoy + RBAC and Envoy + meshwarden, each answering the allowed request with 200', () => {
    const ran = report.throughput.filter((row) => row.skipped === undefined);
    expect(ran.map((row) => row.id)).toEqual(expect.arrayContaining(['envoy-alone', 'envoy-rbac', 'mw-10-hit', 'mw-1k-hit', 'mw-1k-miss', 'mw-100k-hit', 'mw-1k-jwt']));
    for (const row of ran) expect(row.rps?.n).toBe(1);
    for (const s of report.results.scenarios.filter((x) => x.skipped === undefined)) expect(s.probeStatus, s.id).toBe(200);
    for (const id of ['envoy-alone', 'envoy-rbac', 'mw-1k-hit', 'mw-1k-jwt']) expect(ran.find((r) => r.id === id)?.status2xxShare, id).toBeGreaterThan(0.99);
    expect(report.latency.some((l) => l.id === 'mw-1k-hit' && l.pass === 'half')).toBe(true);
  });

  it('holds RBAC (and OPA where it was built) to meshwarden\'s answers on the same policy', () => {
    const agreement = report.results.agreement!;
    expect(agreement.requests).toBeGreaterThan(0);
    for (const [engine, v] of Object.entries(agreement.engines)) expect(v.agree, engine).toBe(agreement.requests);
    expect(Object.keys(agreement.engines)).toContain('rbac');
  });

  it('states every target and the setup', () => {
    expect(report.targets).toHaveLength(3);
    for (const heading of ['## Targets', '## Throughput at saturation', '## Latency at a common fixed rate', '## Setup', '## Commands']) expect(markdown).toContain(heading);
    expect(report.commands.some((c) => c.startsWith('envoy -c'))).toBe(true);
  });
});
