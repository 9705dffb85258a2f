import { describe, expect, it } from 'vitest';
import { CompileError, explain, formatExplain } from '../../../../src/policy/engine/index.js';
import { BATCH, CHECKOUT, DENY_BY_DEFAULT, connection, policy, request, subject } from '../fixtures.js';

const policies = [
  policy({ id: 'allow-checkout', scope: { services: ['payments'] }, rules: [{ from: [{ principals: [CHECKOUT] }, { namespaces: ['billing'] }] }, { to: [{ methods: ['POST'] }] }] }),
  policy({ id: 'deny-admin', action: 'DENY', rules: [{ to: [{ paths: ['/admin/*'] }] }] }),
  policy({ id: 'ledger-only', scope: { services: ['ledger'] } }),
  policy({ id: 'selected', scope: { selector: { app: 'pay' } } }),
];

describe('explain', () => {
  const trace = explain(policies, DENY_BY_DEFAULT, subject(BATCH), request({ context: { service: 'payments' } }));

  it('says for each policy whether it applies and why, in decision order', () => {
    expect(trace.policies.map((p) => [p.id, p.applies, p.scope])).toEqual([
      ['allow-checkout', true, 'service "payments" in scope'],
      ['deny-admin', true, 'applies to every destination'],
      ['ledger-only', false, 'service "payments" not in ["ledger"]'],
      ['selected', false, 'selector: request carries none of its labels, only a DENY would apply (safe side)'],
    ]);
  });

  it('names the first failing clause of every from entry', () => {
    const [first] = trace.policies[0]!.rules;
    expect(first).toMatchObject({
      matched: false,
      failure: {
        clause: 'from[0].source.principals', actual: [BATCH], expected: [CHECKOUT], negated: false,
        others: [{ clause: 'from[1].source.namespaces', actual: ['checkout'], expected: ['billing'] }],
      },
    });
  });

  it('ends with the evaluation', () => {
    expect(trace.evaluation).toStrictEqual({ effect: 'deny', reason: 'default_deny' });
  });

  it('formats a trace for people', () => {
    const text = formatExplain(trace);
    expect(text).toContain('destination: service "payments", namespace <unknown>');
    expect(text).toContain(`rules[0]: no match: from[0].source.principals: "${BATCH}" not in ["${CHECKOUT}"]; from[1].source.namespaces: "checkout" not in ["billing"]`);
    expect(text).toContain('rules[1]: no match: to[0].operation.methods: "GET" not in ["POST"]');
    expect(text).toContain('○ ledger-only ALLOW: does not apply');
    expect(text.split('\n').at(-1)).toBe('decision: deny (default_deny)');
  });

  it('refuses policies that do not compile, as the server would', () => {
    expect(() => explain([policy({ id: 'x', rules: [{ to: [{ ports: ['x'] }] }] })], DENY_BY_DEFAULT, subject(), request())).toThrow(CompileError);
  });
});

describe('explain over a request body', () => {
  const SECRET = 'card-4111-1111-1111-1111';
  const bodyPolicies = [
    policy({ id: 'allow-card', rules: [{ when: [{ key: 'request.body.json[card]', values: ['tok_*'] }] }] }),
    policy({ id: 'deny-cut', action: 'DENY', rules: [{ when: [{ key: 'request.body.json[amount]', notValues: ['1*'] }] }] }),
  ];
  const post = (headers: Record<string, string>) =>
    request({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ card: SECRET, amount: 10 }) });

  it('never shows a body value, in the text or the JSON of the trace', () => {
    const trace = explain(bodyPolicies, DENY_BY_DEFAULT, subject(), post({}));
    expect(formatExplain(trace)).toContain('rules[0]: no match: when[0].values[request.body.json[card]]: <body value not shown> not in ["tok_*"]');
    expect(formatExplain(trace)).not.toContain(SECRET);
    expect(JSON.stringify(trace)).not.toContain(SECRET);
  });

  it('says why a body was not seen', () => {
    const trace = explain(bodyPolicies, DENY_BY_DEFAULT, subject(), post({ 'x-envoy-auth-partial-body': 'true' }));
    expect(formatExplain(trace)).toContain('when[0].values[request.body.json[card]]: <body not seen: partial_body> not in ["tok_*"]');
    expect(trace.evaluation).toStrictEqual({ effect: 'deny', reason: 'policy_deny', by: { policy: 'deny-cut', rule: 0 } });
  });
});

describe('explain over a connection', () => {
  const toPayments = connection({ source: { address: '10.0.0.1' }, destination: { address: '10.0.0.2', port: 8443, principal: 'spiffe://prod.example/ns/prod/sa/payments' } });
  const trace = explain(policies, DENY_BY_DEFAULT, subject(BATCH), toPayments);

  it("names the destination by its SPIFFE ID and fails an ALLOW rule at its first HTTP-only field", () => {
    const text = formatExplain(trace);
    expect(text).toContain('destination: service "payments", namespace "prod"');
    expect(text).toContain('rules[1]: no match: to[0].operation.methods: <a connection has no HTTP attributes> not in ["POST"]');
  });

  it('matches a DENY whose only field is HTTP-only: it denies every connection', () => {
    expect(trace.evaluation).toStrictEqual({ effect: 'deny', reason: 'policy_deny', by: { policy: 'deny-admin', rule: 0 } });
    expect(formatExplain(trace)).toMatch(/● deny-admin DENY: applies \(applies to every destination\)\n {4}rules\[0\]: matched/);
  });
});
