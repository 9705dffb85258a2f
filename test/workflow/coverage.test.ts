/**
 * coverage from a decision log: rules nothing matched, rules far broader than their use with
 * the narrower rule learn writes; test --coverage counting the rules the cases exercised.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { caseCoverage, logCoverage } from '../../src/workflow/rule-coverage/index.js';
import { parseDecisionLog } from '../../src/workflow/decision-log-reader.js';
import { DEFAULT_ENGINE_OPTIONS, loadPolicySet } from '../../src/workflow/policy-set.js';
import { readTestCases } from '../../src/workflow/test-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'mw-coverage-'));
const POLICY = `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: api }
spec:
  target: { services: [api] }
  action: ALLOW
  rules:
    - from: [{ source: { namespaces: [web] } }]
      to: [{ operation: { methods: [GET], paths: ["/api/{**}"] } }]
    - from: [{ source: { principals: ["spiffe://td.example/ns/ops/sa/admin"] } }]
      to: [{ operation: { methods: [DELETE], paths: ["/api/cache"] } }]
`;

const line = (i: number, principal: string, method: string, path: string) =>
  JSON.stringify({ log: 'decision', decision: 'allow', reason: 'policy_allow', source_principal: principal, destination: 'api', method, path, time: `2024-05-01T10:00:0${i}.000Z` });

describe('coverage from a decision log', () => {
  test('a namespace-wide {**} rule used by one workload on two paths is broader than used, with the rule learn writes', async () => {
    writeFileSync(join(dir, 'api.yaml'), POLICY);
    const set = await loadPolicySet([join(dir, 'api.yaml')], DEFAULT_ENGINE_OPTIONS);
    const web = 'spiffe://td.example/ns/web/sa/frontend';
    const log = parseDecisionLog([line(1, web, 'GET', '/api/users'), line(2, web, 'GET', '/api/orders'), line(3, web, 'GET', '/api/users')].join('\n'), 'd.jsonl');
    const coverage = logCoverage(set, log.records);
    expect(coverage.unused.map((u) => [u.policy.id, u.index])).toEqual([['api', 1]]);
    expect(coverage.broad).toHaveLength(1);
    const [broad] = coverage.broad;
    expect(broad!.breadth).toEqual(['source', 'paths']);
    expect(broad!.usage.requests).toBe(3);
    expect(broad!.narrower).toEqual([{ principal: web, requests: 3, operations: [{ methods: ['GET'], paths: ['/api/orders', '/api/users'] }] }]);
  });

  test('an exact rule used as written is neither unused nor broad', async () => {
    writeFileSync(join(dir, 'api.yaml'), POLICY);
    const set = await loadPolicySet([join(dir, 'api.yaml')], DEFAULT_ENGINE_OPTIONS);
    const log = parseDecisionLog(line(1, 'spiffe://td.example/ns/ops/sa/admin', 'DELETE', '/api/cache'), 'd.jsonl');
    const coverage = logCoverage(set, log.records);
    expect(coverage.broad).toEqual([]);
    expect(coverage.unused.map((u) => u.index)).toEqual([0]);
  });
});

describe('test --coverage', () => {
  test('the example cases exercise every enforced rule of the example policies', async () => {
    const set = await loadPolicySet(['examples/policies'], DEFAULT_ENGINE_OPTIONS);
    const coverage = caseCoverage(set, await readTestCases('examples/tests/example-policies.cases.yaml'));
    expect(coverage).toMatchObject({ exercised: 6, percent: 100 });
  });

  test('one case exercises one rule of six', async () => {
    const set = await loadPolicySet(['examples/policies'], DEFAULT_ENGINE_OPTIONS);
    const cases = (await readTestCases('examples/tests/example-policies.cases.yaml')).slice(0, 1);
    const coverage = caseCoverage(set, cases);
    expect(coverage.exercised).toBeLessThan(6);
    expect(coverage.rules.filter((r) => r.requests === 0).length).toBe(6 - coverage.exercised);
  });
});
