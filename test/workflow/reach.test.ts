import { describe, expect, test } from 'vitest';
import { computeReach, type ReachEntry } from '../../src/policy/index.js';
import { DEFAULT_ENGINE_OPTIONS, loadPolicySet } from '../../src/workflow/policy-set.js';

const EXAMPLES = ['examples/policies'];
const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';

const callers = (entries: readonly ReachEntry[]) => entries.map((e) => e.caller);

describe('reach for a destination of the example mesh', () => {
  test('lists each ALLOW rule by caller class, with its methods and paths, and the rule', async () => {
    const set = await loadPolicySet(EXAMPLES, DEFAULT_ENGINE_OPTIONS);
    const report = computeReach(set, { destination: { service: 'payments' } });
    expect(report.unproven).toEqual([]);
    expect(callers(report.entries)).toEqual([
      { kind: 'principal', principal: CHECKOUT },
      { kind: 'namespace', namespace: 'monitoring' },
      { kind: 'principal', principal: 'spiffe://prod.example/ns/support/sa/support-portal' },
    ]);
    const [checkout, monitoring, support] = report.entries;
    expect(checkout).toMatchObject({ methods: { attribute: 'method', values: ['GET', 'POST'] }, paths: { values: ['/v1/charges', '/v1/charges/{*}'] }, allowedBy: { policy: 'payments-api', rule: 0 } });
    expect(support!.conditions).toEqual([{ attribute: 'request.headers[x-tenant]', values: ['acme', 'globex'] }]);
    // The guardrail DENY on /debug/* takes that path out of monitoring's: only /metrics is left.
    expect(monitoring).toMatchObject({ paths: { values: ['/metrics'] }, unless: [] });
    expect(monitoring!.witness?.request).toMatchObject({ method: 'GET', path: '/metrics', source: { principal: 'spiffe://prod.example/ns/monitoring/sa/witness' } });
  });
});
