/**
 * The shadow observer judges the candidate set for the destination the Check resolved (it is
 * handed it, never works it out again), and a disagreement names that destination.
 */
import { describe, expect, it } from 'vitest';
import { createShadowObserver, type ShadowDisagreement } from '../../src/authz/shadow.js';
import type { AccessRequest, Decision } from '../../src/domain/index.js';
import { CHECKOUT, snapshot } from './fixtures.js';

/** No context_extensions and no destination principal: worked out from the request alone, the destination is the host. */
const REQUEST: AccessRequest = {
  kind: 'http', requestId: 'r', method: 'GET', path: '/v1/charges', rawPath: '/v1/charges', query: '', host: 'gateway.example', scheme: 'http', protocol: 'HTTP/2',
  headers: new Map(), source: { principal: CHECKOUT }, destination: {}, contextExtensions: new Map(), sni: '', filterMetadata: {},
};
const ENFORCED_DENY: Decision = { id: 'd', verdict: 'deny', reason: 'default_deny', generation: 1 };
const CALLER = { workload: { uri: CHECKOUT, trustDomain: 'prod.example', path: '/ns/checkout/sa/checkout' } };

describe('the shadow observer', () => {
  it('judges the candidate set for the destination the Check resolved, and names it in the disagreement', () => {
    const seen: ShadowDisagreement[] = [];
    const observe = createShadowObserver({ current: snapshot() }, (d) => seen.push(d));
    // the candidate allows checkout to GET from payments; the request's host is not payments
    observe(CALLER, REQUEST, { effect: 'deny', reason: 'default_deny' }, ENFORCED_DENY, {});
    expect(seen).toEqual([]);
    observe(CALLER, REQUEST, { effect: 'deny', reason: 'default_deny' }, ENFORCED_DENY, { service: 'payments' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ enforced: 'deny', shadow: 'allow', destination: 'payments' });
  });
});
