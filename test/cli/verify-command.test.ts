import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyCommand } from '../../src/cli/verify.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { capture } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'mw-verify-'));

describe('meshwarden verify', () => {
  test('the example segments are all proven: exit 0, one line per invariant', async () => {
    const run = await capture(verifyCommand, ['examples/policies', '--invariants', 'examples/segments.yaml']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✓ the shop namespace never reaches payments (examples/segments.yaml:6): proven over 1 destination\n');
    expect(run.stdout).toMatch(/\nall 6 invariants proven\n$/);
  });

  test('a refuted invariant exits 1, prints the explain command that reproduces it, and fails its JUnit case', async () => {
    const segments = join(dir, 'refuted.yaml');
    writeFileSync(segments, 'invariants:\n  - name: monitoring stays away from payments\n    isolate: { from: { namespace: monitoring }, to: { service: payments } }\n');
    const junit = join(dir, 'verify.xml');
    const run = await capture(verifyCommand, ['examples/policies', '--invariants', segments, '--junit', junit]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ monitoring stays away from payments');
    expect(run.stdout).toContain('counterexample: spiffe://prod.example/ns/monitoring/sa/witness reaches payments: GET /metrics is allowed');
    expect(run.stdout).toContain(`| meshwarden explain --policy examples/policies --request -`);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('tests="1" failures="1"');
    expect(xml).toContain('<failure message="refuted" type="refuted">');
  });

  test('--json says whether all are proven, and each verdict with its file and line', async () => {
    const run = await capture(verifyCommand, ['examples/policies', '--invariants', 'examples/segments.yaml', '--json']);
    const report = JSON.parse(run.stdout);
    expect(report.proven).toBe(true);
    expect(report.invariants[4]).toMatchObject({ name: 'nothing in shop is reachable without an identity', kind: 'noUnauthenticated', line: 27, verdict: 'proven', destinations: 4 });
  });

  test('without --invariants it is a usage error', async () => {
    await expect(capture(verifyCommand, ['examples/policies'])).rejects.toBeInstanceOf(CliUsageError);
  });
});

describe('meshwarden test --coverage', () => {
  test('below --threshold exits 1 and lists the rules no case exercised', async () => {
    const { testCommand } = await import('../../src/cli/test.js');
    const cases = join(dir, 'one.cases.yaml');
    writeFileSync(cases, '- name: checkout creates a charge\n  request: { method: POST, path: /v1/charges, source: { principal: "spiffe://prod.example/ns/checkout/sa/checkout" }, contextExtensions: { service: payments } }\n  expect: { decision: allow }\n');
    const run = await capture(testCommand, ['examples/policies', '--cases', cases, '--coverage', '--threshold', '50']);
    expect(run.stdout).toContain('coverage: 1 of 6 enforced rules exercised by the cases (16.7%), threshold 50%');
    expect(run.stdout).toContain('  payments-refunds rules[0] (');
    expect(run.code).toBe(1);
  });
});
