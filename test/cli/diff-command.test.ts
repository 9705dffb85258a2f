import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { diffCommand } from '../../src/cli/diff.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { compileTree } from '../../src/policy/engine/index.js';
import type { Policy } from '../../src/policy/model.js';
import { diffDecisions } from '../../src/workflow/decision-diff.js';
import { parseDecisionLog } from '../../src/workflow/decision-log-reader.js';
import { capture } from './capture.js';

const path = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const OLD = path('examples/policies/payments.yaml');
const NEW = path('test/fixtures/workflow/payments-v2.yaml');
const LOG = path('test/fixtures/workflow/decisions.jsonl');
const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';

describe('meshwarden diff', () => {
  test('lists the flows whose decision changes, with counts and who decided before and after', async () => {
    const run = await capture(diffCommand, [OLD, NEW, '--requests', LOG]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'replayed 17 decisions (1 skipped: not decided by policy); 10 unchanged',
        'newly denied: 2 flows, 5 requests',
        `  ${CHECKOUT} → payments GET /v1/charges/{*}  ×3  (old: allow by payments-api rule 0; new: deny (default_deny))`,
        `  ${CHECKOUT} → payments GET /v1/charges/export  ×2  (old: allow by payments-api rule 0; new: deny (default_deny))`,
        'newly allowed: 1 flow, 2 requests',
        '  spiffe://prod.example/ns/checkout/sa/batch → payments GET /v1/charges/{*}  ×2  (old: deny (default_deny); new: allow by payments-api rule 2)',
        '',
      ].join('\n'),
    );
  });

  test.each([
    { argv: [OLD, NEW, '--requests', LOG, '--fail-on-new-deny'], code: 1 },
    { argv: [NEW, OLD, '--requests', LOG, '--fail-on-new-deny'], code: 1 },
    { argv: [OLD, OLD, '--requests', LOG, '--fail-on-new-deny'], code: 0 },
    { argv: ['--old', OLD, '--new', NEW, '--requests', LOG], code: 0 },
  ])('exit $code for $argv.0 → $argv.1 $argv.4', async ({ argv, code }) => {
    expect((await capture(diffCommand, argv)).code).toBe(code);
  });

  test('--json lists newly denied and newly allowed flows', async () => {
    const run = await capture(diffCommand, ['--old', OLD, '--new', NEW, '--requests', LOG, '--json']);
    expect(JSON.parse(run.stdout)).toMatchObject({
      replayed: 17,
      skipped: 1,
      unchanged: 10,
      newlyDenied: [{ source: CHECKOUT, destination: 'payments', method: 'GET', template: '/v1/charges/{*}', count: 3 }, { count: 2 }],
      newlyAllowed: [{ count: 2, new: 'allow by payments-api rule 2' }],
    });
  });

  test('the default action matters: a service without policies is newly denied when the default turns to DENY', () => {
    const log = parseDecisionLog('{"decision":"allow","reason":"default_allow","destination":"inventory","method":"GET","path":"/"}', 'd');
    const none: Policy[] = [];
    const tree = (defaultAction: 'ALLOW' | 'DENY') => compileTree(none, { defaultAction, rootNamespace: 'istio-system' });
    expect(diffDecisions(log.records, tree('ALLOW'), tree('ALLOW')).changes).toEqual([]);
    expect(diffDecisions(log.records, tree('ALLOW'), tree('DENY')).changes).toMatchObject([{ kind: 'newly_denied', source: 'unknown' }]);
  });

  test.each([
    { why: 'one policy path only', argv: [OLD, '--requests', LOG] },
    { why: 'no recorded requests', argv: [OLD, NEW] },
    { why: 'positionals mixed with --old', argv: [OLD, '--old', OLD, '--new', NEW, '--requests', LOG] },
  ])('$why is a usage error', async ({ argv }) => {
    await expect(diffCommand(argv)).rejects.toBeInstanceOf(CliUsageError);
  });
});
