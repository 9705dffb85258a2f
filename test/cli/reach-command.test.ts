import { describe, expect, test } from 'vitest';
import { graphCommand } from '../../src/cli/graph.js';
import { reachCommand } from '../../src/cli/reach.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { capture } from './capture.js';

describe('meshwarden reach', () => {
  test('--to lists callers as a table, a namespace spelled out as any workload of it', async () => {
    const run = await capture(reachCommand, ['examples/policies', '--to', 'payments']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/namespace monitoring \(any workload\)\s+GET\s+\/metrics\s+-\s+payments-api rules\[1\]/);
  });

  test('--from with --json gives every destination the caller reaches, with its witness', async () => {
    const run = await capture(reachCommand, ['examples/policies', '--from', 'cluster.local/ns/shop/sa/frontend', '--json']);
    const report = JSON.parse(run.stdout);
    expect(report.entries.map((e: { destination: unknown }) => e.destination)).toEqual([{ namespace: 'shop', other: true }]);
    expect(report.entries[0].witness.request).toMatchObject({ method: 'GET', source: { principal: 'spiffe://cluster.local/ns/shop/sa/frontend' } });
  });

  test('--blast-radius walks callers transitively and draws them as DOT', async () => {
    const run = await capture(reachCommand, ['examples/policies', '--blast-radius', 'spiffe://prod.example/ns/checkout/sa/checkout', '--depth', '2', '--format', 'dot']);
    // payments runs as the identity a policy names for it; it reaches nothing itself (the ledger's ALLOW is dry-run).
    expect(run.stdout).toContain('"spiffe://prod.example/ns/checkout/sa/checkout" -> "spiffe://prod.example/ns/payments/sa/payments" [label="hop 1: payments\\nGET POST /v1/charges /v1/charges/{*}"]');
    expect(run.stdout.match(/->/g)).toHaveLength(1);
  });

  test('graph --reach draws the same blast radius through the graph renderers', async () => {
    const run = await capture(graphCommand, ['--policy', 'examples/policies', '--reach', 'spiffe://prod.example/ns/checkout/sa/checkout', '--format', 'mermaid']);
    expect(run.stdout).toContain('n0 -->|"hop 1: payments<br/>GET POST /v1/charges /v1/charges/{*}"| n1');
  });

  test('two questions at once is a usage error', async () => {
    await expect(capture(reachCommand, ['examples/policies', '--to', 'payments', '--from', 'anonymous'])).rejects.toBeInstanceOf(CliUsageError);
  });
});
