import { describe, expect, test } from 'vitest';
import { parseDecisionLog, type DecisionRecord } from '../../src/workflow/decision-log-reader.js';
import { applyMinCount, learnPolicies, policyName } from '../../src/workflow/learn-policies.js';
import { collectFlows } from '../../src/workflow/observed-flows.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const record = (over: Partial<DecisionRecord>): DecisionRecord => ({
  line: 1,
  decision: 'allow',
  reason: 'policy_allow',
  destination: 'payments',
  method: 'GET',
  path: '/v1/charges',
  sourcePrincipal: CHECKOUT,
  ...over,
});

describe('reading a decision log', () => {
  test('skips and counts lines that are not JSON, or not decisions', () => {
    const log = parseDecisionLog(
      ['starting', '{"msg":"listening"}', '{"log":"operational","decision":"allow","destination":"a","method":"GET","path":"/"}', '', '[1]',
        '{"log":"decision","time":"t","decision":"deny","reason":"default_deny","destination":"a","method":"GET","path":"/x","generation":2,"dry_run":"would_deny"}'].join('\n'),
      'd.jsonl',
    );
    expect(log).toMatchObject({ lines: 5, skipped: { notJson: 2, notDecision: 2 } });
    expect(log.records).toEqual([{ line: 6, decision: 'deny', reason: 'default_deny', destination: 'a', method: 'GET', path: '/x', generation: 2, dryRun: 'would_deny', time: 't' }]);
  });
});

describe('collecting flows', () => {
  test.each([
    { why: 'denied by default (not asked for)', over: { decision: 'deny', reason: 'default_deny' }, reason: 'denied_by_default' },
    { why: 'denied by a DENY policy', over: { decision: 'deny', reason: 'policy_deny' }, reason: 'denied_by_policy' },
    { why: 'unauthenticated', over: { decision: 'unauthenticated', reason: 'invalid_token' }, reason: 'other_outcome' },
    { why: 'without a caller identity', over: { sourcePrincipal: undefined }, reason: 'no_workload_identity' },
    { why: 'with a caller that is not a SPIFFE ID', over: { sourcePrincipal: 'bob' }, reason: 'no_workload_identity' },
    { why: 'to an unknown destination', over: { destination: 'unknown' }, reason: 'unknown_destination' },
    { why: 'with a literal * in the path', over: { path: '/files/*' }, reason: 'inexpressible' },
    { why: 'with a lower-case method', over: { method: 'get' }, reason: 'inexpressible' },
  ])('a request $why is not learned, and counted', ({ over, reason }) => {
    const collection = collectFlows([record(over as Partial<DecisionRecord>)]);
    expect(collection.flows).toEqual([]);
    expect(collection.excluded).toMatchObject({ [reason]: 1 });
  });

  test('requests denied by default are learned when asked', () => {
    expect(collectFlows([record({ decision: 'deny', reason: 'default_deny' })], { includeDefaultDenied: true }).flows).toHaveLength(1);
  });

  test('--trust-domain keeps callers of that trust domain only', () => {
    const other = record({ sourcePrincipal: 'spiffe://cluster.local/ns/shop/sa/frontend' });
    const collection = collectFlows([record({}), other], { trustDomain: 'prod.example' });
    expect(collection.flows.map((f) => f.source)).toEqual([CHECKOUT]);
    expect(collection.excluded.other_trust_domain).toBe(1);
  });

  test('ids in paths are generalized, so requests to different ids are one flow', () => {
    const flows = collectFlows(['/v1/charges/1', '/v1/charges/2', '/v1/charges/export'].map((path) => record({ path }))).flows;
    expect(flows.map((f) => [f.template, f.count])).toEqual([['/v1/charges/export', 1], ['/v1/charges/{*}', 2]]);
  });
});

describe('learning policies', () => {
  test('one policy per service, one rule per caller, operations grouped by identical method sets', () => {
    const flows = collectFlows([
      record({ method: 'GET', path: '/a' }),
      record({ method: 'POST', path: '/b' }),
      record({ method: 'GET', path: '/b' }),
      record({ method: 'GET', path: '/c/42' }),
      record({ destination: 'ledger', method: 'PUT', path: '/x', sourcePrincipal: 'spiffe://prod.example/ns/payments/sa/payments' }),
    ]).flows;
    expect(learnPolicies(flows, 'dry-run')).toEqual([
      { name: 'learned-ledger', service: 'ledger', mode: 'dry-run', requests: 1, rules: [{ principal: 'spiffe://prod.example/ns/payments/sa/payments', requests: 1, operations: [{ methods: ['PUT'], paths: ['/x'] }] }] },
      {
        name: 'learned-payments',
        service: 'payments',
        mode: 'dry-run',
        requests: 4,
        rules: [{ principal: CHECKOUT, requests: 4, operations: [{ methods: ['GET'], paths: ['/a', '/c/{*}'] }, { methods: ['GET', 'POST'], paths: ['/b'] }] }],
      },
    ]);
  });

  test('the order of the log does not change what is learned', () => {
    const records = ['/a', '/b/1', '/c'].flatMap((path, i) => [record({ path }), record({ path, method: 'POST', sourcePrincipal: `spiffe://td/w${i}` })]);
    const learned = (list: DecisionRecord[]) => learnPolicies(collectFlows(list).flows, 'enforce');
    expect(learned([...records].reverse())).toEqual(learned(records));
  });

  test('--min-count drops rarer flows and counts them', () => {
    const flows = collectFlows([record({}), record({}), record({ path: '/once' })]).flows;
    expect(applyMinCount(flows, 2)).toMatchObject({ kept: [{ template: '/v1/charges', count: 2 }], droppedFlows: 1, droppedRequests: 1 });
  });

  test.each([
    { service: 'payments', name: 'learned-payments' },
    { service: 'Payments.Prod:8080', name: 'learned-payments.prod-8080' },
    { service: '--', name: 'learned-service' },
  ])('the policy for $service is named $name', ({ service, name }) => {
    expect(policyName(service)).toBe(name);
  });

  test('services that differ only in case still get distinct policy names', () => {
    const names = learnPolicies(collectFlows([record({ destination: 'Payments' }), record({})]).flows, 'dry-run').map((p) => p.name);
    expect(names).toEqual(['learned-payments', 'learned-payments-2']);
  });
});
