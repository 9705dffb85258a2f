/** `meshwarden explain` as a user runs it: the built CLI on the bundled example requests. */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../helpers/server-process.js';

function explain(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, 'explain', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('meshwarden explain', () => {
  it('shows checkout creating a charge allowed by the payments policy, and why', () => {
    const run = explain('--policy', 'examples/policies', '--request', 'examples/requests/checkout-creates-charge.yaml');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/payments-api ALLOW: applies[\s\S]*rules\[0\]: matched/);
    expect(run.stdout).toMatch(/^decision: allow \(policy_allow by payments-api rules\[0\]\)$/m);
  });

  it('shows the batch workload denied by default, naming the principal that did not match', () => {
    const run = explain('--policy', 'examples/policies', '--request', 'examples/requests/batch-reads-charges.json');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('"spiffe://prod.example/ns/checkout/sa/batch" not in ["spiffe://prod.example/ns/checkout/sa/checkout"]');
    expect(run.stdout).toMatch(/^decision: deny \(default_deny\)$/m);
  });

  it('prints the trace as JSON with --json', () => {
    const out = execFileSync(process.execPath, [CLI, 'explain', '--json', '--policy', 'examples/policies', '--request', 'examples/requests/batch-reads-charges.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ evaluation: { effect: 'deny', reason: 'default_deny' } });
  });

  it('refuses to explain with broken policies and names file:line:col', () => {
    const run = explain('--policy', 'test/fixtures/policies/invalid', '--request', 'examples/requests/batch-reads-charges.json');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/invalid\/[\w.-]+\.yaml:\d+:\d+: /);
  });

  it('is a usage error without a request', () => {
    expect(explain('--policy', 'examples/policies').status).toBe(2);
  });
});
