/**
 * bench/http-service.ts in smoke mode (one round of one second each), so it cannot rot: it
 * compiles, drives both services of one real server, and every decision it counts is the
 * allow the request deserves. Skipped where h2load is not installed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server-process.js';

const hasH2load = spawnSync('h2load', ['--version']).status === 0;

describe.skipIf(!hasH2load)('bench/http-service.ts, one short round', () => {
  it('measures the gRPC and the HTTP-service Check, every decision an allow', () => {
    // Type errors are the typecheck's business; what tsc emits is what runs.
    spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.json'], { cwd: REPO_ROOT });
    const script = join(REPO_ROOT, 'node_modules/.cache/meshwarden-bench/bench/http-service.js');
    const run = spawnSync(process.execPath, [script, '--rounds', '1', '--duration', '1'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 90_000 });
    expect(run.status, run.stderr).toBe(0);
    const rounds = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, number | string>);
    expect(rounds.map((r) => r['mode']).sort()).toEqual(['grpc', 'http']);
    for (const r of rounds) {
      expect(r['decisions']).toBeGreaterThan(0);
      expect(r['allowed']).toBe(r['decisions']);
    }
    expect(run.stdout).toMatch(/\| http \| \d+ \(/);
  }, 120_000);
});
