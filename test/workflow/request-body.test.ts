// Request specs carry a body, so `meshwarden test` and `explain` can pin body conditions in CI.
import { describe, expect, test } from 'vitest';
import { compileTree, parsePolicyText } from '../../src/policy/index.js';
import { parseLocatedYaml } from '../../src/workflow/located-yaml.js';
import { parseRequestText } from '../../src/workflow/request-file.js';
import { runCases } from '../../src/workflow/run-cases.js';
import { casesOf } from '../../src/workflow/test-cases.js';
import { WorkflowError, formatIssue } from '../../src/workflow/workflow-error.js';
import { BODY_POLICIES } from '../helpers/body-policies.js';

const tree = compileTree(parsePolicyText(BODY_POLICIES, 'p.yaml', { rootNamespace: 'istio-system' }).policies, {
  defaultAction: 'DENY',
  rootNamespace: 'istio-system',
});

const CASES = `
- name: a large amount is denied by the DENY that reads the body
  request: { method: POST, path: /pay, body: { amount: 100000 } }
  expect: { decision: deny, policy: deny-large-amounts }
- name: a small amount is allowed
  request: { method: POST, path: /pay, body: { amount: 5 } }
  expect: { decision: allow, policy: payments, rule: 0 }
- name: the ALLOW that reads the body allows what it reads
  request: { method: POST, path: /small, body: { amount: 10 } }
  expect: { decision: allow, policy: payments, rule: 1 }
- name: JSON written as text, declared JSON, is read
  request: { method: POST, path: /small, body: '{"amount": 10}', contentType: application/json }
  expect: { decision: allow, rule: 1 }
- name: JSON written as text, not declared, is unseen, as the server would treat it
  request: { method: POST, path: /small, body: '{"amount": 10}' }
  expect: { decision: deny, reason: default_deny }
- name: no body at all is unseen
  request: { method: POST, path: /small }
  expect: { decision: deny, reason: default_deny }
`;

describe('a request body in a test case', () => {
  test('is what the body conditions read, declared JSON unless written as text', () => {
    const run = runCases(tree, casesOf(parseLocatedYaml(CASES, 'c.yaml')));
    expect(run.results.filter((r) => r.mismatches.length > 0).map((r) => [r.case.name, r.actual])).toEqual([]);
    expect(run.passed).toBe(6);
  });

  test('sets content-type from contentType, and the bytes are the JSON text of the value', () => {
    const { request } = parseRequestText('method: POST\npath: /pay\nbody: { amount: 5, items: [1, 2] }\n', 'r.yaml');
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(new TextDecoder().decode(request.body)).toBe('{"amount":5,"items":[1,2]}');
    const text = parseRequestText('method: POST\npath: /pay\nbody: a=1\ncontentType: application/x-www-form-urlencoded\n', 'r.yaml');
    expect([text.request.headers.get('content-type'), new TextDecoder().decode(text.request.body)]).toEqual(['application/x-www-form-urlencoded', 'a=1']);
  });

  test('a contentType that contradicts the content-type header is refused, naming where', () => {
    const yaml = 'method: POST\npath: /pay\nheaders: { content-type: text/plain }\nbody: x\ncontentType: application/json\n';
    let lines: string[] = [];
    try {
      parseRequestText(yaml, 'r.yaml');
    } catch (error) {
      lines = (error as WorkflowError).issues.map(formatIssue);
    }
    expect(lines).toEqual([expect.stringMatching(/^r\.yaml:5:\d+: contentType "application\/json" contradicts headers\.content-type "text\/plain": give one \(contentType\)$/)]);
  });

  test('a body of null is refused by the schema', () => {
    expect(() => parseRequestText('method: POST\npath: /pay\nbody: null\n', 'r.yaml')).toThrow(/body/);
  });
});
