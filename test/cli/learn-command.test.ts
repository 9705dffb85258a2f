import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { learnCommand } from '../../src/cli/learn.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { compileTree } from '../../src/policy/engine/index.js';
import { checkPolicies, loadPolicies } from '../../src/policy/load/index.js';
import { parseDecisionLog, readDecisionLog } from '../../src/workflow/decision-log-reader.js';

const readDecisionLogText = async (text: string) => parseDecisionLog(text, 'inline');
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
    { why: 'a negative min-distinct', argv: ['--from', LOG, '--min-distinct', '-1'] },
    { why: 'a path template with nothing to generalize', argv: ['--from', LOG, '--path-template', '/v1/users'] },
    { why: 'a path template that is no policy path', argv: ['--from', LOG, '--path-template', 'v1/{*}'] },
  ])('$why is a usage error', async ({ argv }) => {
    await expect(learnCommand(argv)).rejects.toBeInstanceOf(CliUsageError);
  });
});

describe('meshwarden learn on ids that are not numbers', () => {
  const PAYMENTS = 'spiffe://prod.example/ns/payments/sa/payments';
  const line = (destination: string, path: string) =>
    JSON.stringify({ log: 'decision', decision: 'allow', reason: 'policy_allow', source_principal: PAYMENTS, destination, method: 'GET', path });
  const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const paths = ['/v1/charges/ch_1234', '/v1/items/sku-0001', '/v1/entries/e_1', ...USERS.map((u) => `/v1/users/${u}`), '/v1/teams/red/members/m1x'];

  async function learned(...flags: string[]): Promise<{ file: string; text: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'mw-learn-ids-'));
    const log = join(dir, 'decisions.jsonl');
    writeFileSync(log, `${paths.map((p) => line('api', p)).join('\n')}\n`);
    const file = join(dir, 'learned.yaml');
    expect((await capture(learnCommand, ['--from', log, '--out', file, '--mode', 'enforce', ...flags])).code).toBe(0);
    return { file, text: readFileSync(file, 'utf8') };
  }

  async function decides(file: string, path: string): Promise<string> {
    const tree = compileTree((await loadPolicies([file], OPTIONS)).policies, { defaultAction: 'DENY', rootNamespace: 'istio-system' });
    const [record] = (await readDecisionLogText(line('api', path))).records;
    const { subject, request } = replayRequest(record!);
    return tree.evaluate(subject, request).effect;
  }

  test.each(['/v1/charges/ch_9999', '/v1/items/sku-0002', '/v1/entries/e_2'])('allows the next prefixed id: %s', async (path) => {
    expect(await decides((await learned()).file, path)).toBe('allow');
  });

  test('generalizes user names seen at least --min-distinct times under one parent, and not below it', async () => {
    expect(await decides((await learned('--min-distinct', '5')).file, '/v1/users/zed')).toBe('allow');
    expect(await decides((await learned('--min-distinct', '6')).file, '/v1/users/zed')).toBe('deny');
  });

  test('--path-template generalizes what the operator names', async () => {
    const { file } = await learned('--path-template', '/v1/teams/{*}/members/{*}');
    expect(await decides(file, '/v1/teams/blue/members/m2y')).toBe('allow');
    expect(await decides(file, '/v1/teams/blue/owners/m2y')).toBe('deny');
  });

  test('the header names each generalized segment and why', async () => {
    const { text } = await learned('--min-distinct', '5', '--path-template', '/v1/teams/{*}/members/{*}');
    const header = text.split('\n').filter((l) => l.startsWith('#   path segments') || l.startsWith('#     api '));
    expect(header).toEqual([
      '#   path segments generalized to {*}: 6 (min-distinct: 5; path templates: /v1/teams/{*}/members/{*})',
      '#     api /v1/charges/{*}: prefixed ids; 1 value: ch_1234',
      '#     api /v1/entries/{*}: prefixed ids; 1 value: e_1',
      '#     api /v1/items/{*}: prefixed ids; 1 value: sku-0001',
      '#     api /v1/teams/{*}: --path-template /v1/teams/{*}/members/{*}; 1 value: red',
      '#     api /v1/teams/{*}/members/{*}: --path-template /v1/teams/{*}/members/{*}; 1 value: m1x',
      '#     api /v1/users/{*}: 5 distinct values under /v1/users/ (--min-distinct 5); 5 values: alice, bob, carol, …',
    ]);
  });
});
