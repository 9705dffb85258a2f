import { describe, expect, test } from 'vitest';
import { coverageCommand } from '../../src/cli/coverage.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { capture } from './capture.js';

const ARGS = ['--policy', 'examples/policies', '--log', 'test/fixtures/workflow/decisions.jsonl'];

describe('meshwarden coverage', () => {
  test('lists the example rules the logged traffic never needed, and monitoring\'s namespace-wide rule used by one workload', async () => {
    const run = await capture(coverageCommand, ARGS);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('unused ALLOW rules (no logged request matched: candidates to remove): 3\n');
    expect(run.stdout).toContain('  payments-refunds rules[0] (examples/policies/payments.yaml:29)\n');
    expect(run.stdout).toContain('    source wider than its 1 caller: spiffe://prod.example/ns/monitoring/sa/prometheus\n');
  });

  test('--json gives the same findings to a machine', async () => {
    const report = JSON.parse((await capture(coverageCommand, [...ARGS, '--json'])).stdout);
    expect(report.broad[0]).toMatchObject({ policy: 'payments-api', rule: 1, breadth: ['source', 'paths'], paths: ['/metrics'] });
  });

  test('without --log it is a usage error', async () => {
    await expect(capture(coverageCommand, ['--policy', 'examples/policies'])).rejects.toBeInstanceOf(CliUsageError);
  });
});
