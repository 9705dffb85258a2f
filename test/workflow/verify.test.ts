/**
 * Segment invariants: proven on the example mesh; refuted, each kind, with a counterexample
 * request that explain (the enforcing engine and its trace) reproduces as allowed; a bad
 * invariants file named at file:line.
 */
import { describe, expect, test } from 'vitest';
import { Reach } from '../../src/policy/index.js';
import { explainRequest } from '../../src/workflow/explain-request.js';
import { parseLocatedYaml } from '../../src/workflow/located-yaml.js';
import { DEFAULT_ENGINE_OPTIONS, loadPolicySet, type PolicySet } from '../../src/workflow/policy-set.js';
import { parseRequestText } from '../../src/workflow/request-file.js';
import { invariantsOf, proveInvariants, readInvariants, type InvariantResult } from '../../src/workflow/verify/index.js';
import { WorkflowError } from '../../src/workflow/workflow-error.js';

const examples = () => loadPolicySet(['examples/policies'], DEFAULT_ENGINE_OPTIONS);
const prove = (set: PolicySet, text: string) => proveInvariants(new Reach(set), invariantsOf(parseLocatedYaml(text, 'segments.yaml')));

/** The counterexample as explain reads a request file (JSON on standard input): the engine allows it. */
function replayed(set: PolicySet, result: InvariantResult) {
  const input = parseRequestText(JSON.stringify(result.counterexample!.request), '<stdin>');
  return explainRequest(set, input.subject, input.request).decision;
}

describe('meshwarden verify on the example mesh', () => {
  test('proves every invariant of examples/segments.yaml', async () => {
    const results = proveInvariants(new Reach(await examples()), await readInvariants('examples/segments.yaml'));
    expect(results.map((r) => [r.invariant.name, r.verdict])).toEqual(results.map((r) => [r.invariant.name, 'proven']));
    expect(results).toHaveLength(6);
  });

  test('refutes an isolation that a namespace-wide rule breaks, with a request explain allows', async () => {
    const set = await examples();
    const [result] = prove(set, '- isolate: { from: { namespace: monitoring }, to: { service: payments } }');
    expect(result).toMatchObject({ verdict: 'refuted', counterexample: { request: { method: 'GET', path: '/metrics', source: { principal: 'spiffe://prod.example/ns/monitoring/sa/witness' } } } });
    expect(replayed(set, result!)).toMatchObject({ effect: 'allow', by: { policy: 'payments-api', rule: 1 } });
  });

  test('refutes "only checkout may GET /metrics" with monitoring, and keeps the DENY-covered /debug/* out of it', async () => {
    const set = await examples();
    const [metrics, debug] = prove(set, [
      '- only: { callers: ["spiffe://prod.example/ns/checkout/sa/checkout"], may: { methods: [GET], paths: [/metrics] }, on: payments }',
      '- only: { callers: ["spiffe://prod.example/ns/checkout/sa/checkout"], may: { paths: ["/debug/**", "/admin/**"] } }',
    ].join('\n'));
    expect(metrics!.verdict).toBe('refuted');
    expect(metrics!.counterexample!.entry!.caller).toEqual({ kind: 'namespace', namespace: 'monitoring' });
    expect(replayed(set, metrics!).effect).toBe('allow');
    // Monitoring's rule names /debug/*, but the guardrail DENY takes it away from everyone.
    expect(debug!.verdict).toBe('proven');
  });

  test('refutes noUnauthenticated and everyDestinationCovered where no policy speaks for a namespace', async () => {
    const set = await loadPolicySet(['examples/policies'], { ...DEFAULT_ENGINE_OPTIONS, defaultAction: 'ALLOW' });
    const [unauthenticated, covered] = prove(set, ['- noUnauthenticated: { to: { namespace: prod } }', '- everyDestinationCovered: { namespace: prod }'].join('\n'));
    expect(unauthenticated).toMatchObject({ verdict: 'refuted' });
    expect(unauthenticated!.counterexample!.request.source?.principal).toBeUndefined();
    expect(replayed(set, unauthenticated!)).toMatchObject({ effect: 'allow', reason: 'default_allow' });
    expect(covered).toMatchObject({ verdict: 'refuted', counterexample: { destination: { namespace: 'prod' } } });
    expect(covered!.counterexample!.why).toContain('no enforced ALLOW policy applies');
  });
});

describe('a bad invariants file', () => {
  test.each([
    { why: 'an unknown kind', text: '- name: x\n  isolated: { from: { namespace: a }, to: { namespace: b } }\n', where: 'segments.yaml:2:3', says: 'unknown field "isolated"; did you mean "isolate"?' },
    { why: 'two kinds in one invariant', text: '- noUnauthenticated: { to: { namespace: a } }\n  everyDestinationCovered: { namespace: a }\n', where: 'segments.yaml:1:3', says: 'exactly one of isolate, only' },
    { why: 'a caller that is not a SPIFFE ID', text: '- only:\n    callers: ["payments team"]\n    may: { methods: [POST] }\n', where: 'segments.yaml:2:15', says: 'is not a SPIFFE ID' },
    { why: 'a caller selector with two fields', text: '- isolate: { from: { namespace: a, principal: "spiffe://td/x" }, to: { namespace: b } }\n', where: 'segments.yaml:1:20', says: '{ namespace: NS } or { principal: SPIFFE_ID }' },
  ])('names where: $why', ({ text, where, says }) => {
    const error = (() => {
      try {
        invariantsOf(parseLocatedYaml(text, 'segments.yaml'));
      } catch (e) {
        return e as WorkflowError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(WorkflowError);
    expect(error.code).toBe('invalid_invariants');
    expect(error.message).toContain(where);
    expect(error.message).toContain(says);
  });
});
