import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const OPEN_API = `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: open-api }
spec:
  target: { services: [api] }
  action: ALLOW
  rules:
    - from: [{ source: { notPrincipals: ["spiffe://td.example/ns/guest/sa/bad"] } }]
      to: [{ operation: { methods: [GET], paths: ["/pub/{**}"] } }]
    - from: [{ source: { principals: ["*"] } }]
      to: [{ operation: { paths: ["/v1/*"] } }]
      when: [{ key: "request.auth.claims[scope]", values: [write] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: no-guest-writes }
spec:
  action: DENY
  rules:
    - from: [{ source: { namespaces: [guest] } }]
      to: [{ operation: { methods: [POST] } }]
`;

describe('reach keeps wildcards what they are', () => {
  test('a notPrincipals-only source is ANYONE, shown by a request without identity; principals "*" is any authenticated workload, with its claim and the DENY that may cut in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-reach-'));
    writeFileSync(join(dir, 'api.yaml'), OPEN_API);
    const report = computeReach(await loadPolicySet([dir], DEFAULT_ENGINE_OPTIONS), { destination: { service: 'api' } });
    const [anyone, authenticated] = report.entries;
    expect(anyone).toMatchObject({ caller: { kind: 'anyone' }, conditions: [{ attribute: 'source.principal', notValues: ['spiffe://td.example/ns/guest/sa/bad'] }], unless: [] });
    expect(anyone!.witness!.request.source?.principal).toBeUndefined();
    expect(authenticated).toMatchObject({ caller: { kind: 'authenticated' }, conditions: [{ attribute: 'request.auth.claims[scope]', values: ['write'] }] });
    expect(authenticated!.unless.map((u) => u.rule)).toEqual([{ policy: 'no-guest-writes', rule: 0 }]);
    expect(authenticated!.witness!.subject?.user.claims).toEqual({ scope: 'write' });
  });
});

const MIGRATING = `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders-from-cart }
spec:
  target: { services: [orders] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["spiffe://cluster.local/ns/shop/sa/cart"] } }]
      to: [{ operation: { methods: [GET] } }]
`;

describe('reach with trust-domain aliases', () => {
  test('reports the aliased twin of a caller, as the compiled tree allows it, each with a witness the tree allows; without aliases only the written caller', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-reach-alias-'));
    writeFileSync(join(dir, 'orders.yaml'), MIGRATING);
    const aliased = { ...DEFAULT_ENGINE_OPTIONS, trustDomainAliases: { 'cluster.local': ['old.example'] } };
    const withAliases = computeReach(await loadPolicySet([dir], aliased), { destination: { service: 'orders' } });
    expect(callers(withAliases.entries)).toEqual([
      { kind: 'principal', principal: 'spiffe://cluster.local/ns/shop/sa/cart' },
      { kind: 'principal', principal: 'spiffe://old.example/ns/shop/sa/cart' },
    ]);
    expect(withAliases.entries.map((e) => e.witness?.request.source?.principal)).toEqual([
      'spiffe://cluster.local/ns/shop/sa/cart',
      'spiffe://old.example/ns/shop/sa/cart',
    ]);
    const plain = computeReach(await loadPolicySet([dir], DEFAULT_ENGINE_OPTIONS), { destination: { service: 'orders' } });
    expect(callers(plain.entries)).toEqual([{ kind: 'principal', principal: 'spiffe://cluster.local/ns/shop/sa/cart' }]);
  });
});
