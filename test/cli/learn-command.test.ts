import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { learnCommand } from '../../src/cli/learn.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { compileTree } from '../../src/policy/engine/index.js';
import { checkPolicies, loadPolicies } from '../../src/policy/load/index.js';
import { readDecisionLog } from '../../src/workflow/decision-log-reader.js';
import { replayRequest } from '../../src/workflow/replay.js';
import { capture } from './capture.js';

const LOG = fileURLToPath(new URL('../fixtures/workflow/decisions.jsonl', import.meta.url));
const OPTIONS = { rootNamespace: 'istio-system' };

async function learnTo(...flags: string[]): Promise<{ file: string; text: string; stderr: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'mw-learn-')), 'learned.yaml');
  const run = await capture(learnCommand, ['--from', LOG, '--out', file, ...flags]);
  expect(run.code).toBe(0);
  return { file, text: readFileSync(file, 'utf8'), stderr: run.stderr };
}

describe('meshwarden learn', () => {
  test('writes policies that `meshwarden check` accepts, one per destination, in dry-run mode', async () => {
    const { file, text } = await learnTo();
    const checked = await checkPolicies([file], OPTIONS);
    expect(checked).toMatchObject({ ok: true, errors: [], warnings: [], policyCount: 2 });
    const { policies } = await loadPolicies([file], OPTIONS);
    expect(policies.map((p) => [p.id, p.mode, p.scope.services])).toEqual([
      ['learned-orders', 'dry-run', ['orders']],
      ['learned-payments', 'dry-run', ['payments']],
    ]);
    expect(text).not.toMatch(/\/\*|\{\*\*\}/);
  });

  test('keeps a literal route beside the template that covers ids, and learns only allowed callers', async () => {
    const { file } = await learnTo();
    const payments = (await loadPolicies([file], OPTIONS)).policies.find((p) => p.id === 'learned-payments')!;
    expect(payments.rules).toEqual([
      {
        from: [{ principals: ['spiffe://prod.example/ns/checkout/sa/checkout'] }],
        to: [
          { methods: ['GET'], paths: ['/v1/charges/export', '/v1/charges/{*}'] },
          { methods: ['POST'], paths: ['/v1/charges'] },
        ],
      },
      { from: [{ principals: ['spiffe://prod.example/ns/monitoring/sa/prometheus'] }], to: [{ methods: ['GET'], paths: ['/metrics'] }] },
    ]);
  });

  test('the header says what the policies were learned from', async () => {
    const { text } = await learnTo('--min-count', '2');
    expect(text.split('\n').slice(0, 7)).toEqual([
      `# Learned by \`meshwarden learn\` from ${LOG}`,
      '#   20 lines: 18 decisions; skipped 1 not JSON, 1 without the needed fields',
      '#   time range: 2024-05-01T10:00:01.000Z .. 2024-05-01T10:00:18.000Z',
      '#   policy generation(s): 3, 4',
      '#   learned from 11 requests allowed',
      '#   not learned: 5 denied by default, 1 denied by a DENY policy, 1 other outcomes (unauthenticated, invalid, errors), 0 without a workload identity, 0 to an unknown destination, 0 not expressible as a policy path or method',
      '#   min-count: 2; dropped 1 flow (1 request) seen fewer times',
    ]);
  });

  test('the learned policies, enforced, allow every learned request and deny the others', async () => {
    const { file } = await learnTo('--mode', 'enforce', '--min-count', '2');
    const tree = compileTree((await loadPolicies([file], OPTIONS)).policies, { defaultAction: 'DENY', rootNamespace: 'istio-system' });
    const log = await readDecisionLog(LOG);
    const outcomes = log.records.map((r) => {
      const { subject, request } = replayRequest(r);
      return `${r.sourcePrincipal ?? '-'} ${r.method} ${r.destination}${r.path} ${tree.evaluate(subject, request).effect}`;
    });
    const allowed = outcomes.filter((o) => o.endsWith(' allow'));
    expect(allowed).toHaveLength(10);
    expect(allowed.every((o) => o.includes('/ns/checkout/sa/checkout') || o.includes('frontend'))).toBe(true);
    expect(outcomes).toContain('spiffe://prod.example/ns/monitoring/sa/prometheus GET payments/metrics deny');
    expect(outcomes).toContain('spiffe://prod.example/ns/checkout/sa/batch GET payments/v1/charges/789 deny');
  });

  test('the same log gives the same bytes', async () => {
    expect((await learnTo()).text).toBe((await learnTo()).text);
  });

  test('--include-default-denied learns the callers no policy allowed yet', async () => {
    const { text } = await learnTo('--include-default-denied');
    expect(text).toContain('spiffe://prod.example/ns/checkout/sa/batch');
  });

  test('without --out, the YAML goes to stdout', async () => {
    const run = await capture(learnCommand, ['--from', LOG]);
    expect(run.stdout).toMatch(/^# Learned by/);
    expect(run.stderr).toBe('learned 2 policies from 11 requests\n');
  });

  test.each([
    { why: 'no --from', argv: [] },
    { why: 'a min-count of 0', argv: ['--from', LOG, '--min-count', '0'] },
    { why: 'an unknown mode', argv: ['--from', LOG, '--mode', 'audit'] },
  ])('$why is a usage error', async ({ argv }) => {
    await expect(learnCommand(argv)).rejects.toBeInstanceOf(CliUsageError);
  });
});
