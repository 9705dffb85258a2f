import { describe, expect, it } from 'vitest';
import { Authorizer, type SubjectResolver } from '../../src/authz/authorizer.js';
import { DecisionCache } from '../../src/authz/decision-cache.js';
import type { AccessRequest, Subject } from '../../src/domain/index.js';
import { createIdentityResolver, IdentityError } from '../../src/identity/index.js';
import type { PolicySnapshot } from '../../src/policy/snapshot.js';
import { CHECKOUT, snapshot } from './fixtures.js';

function request(principal: string | undefined, method = 'GET'): AccessRequest {
  return {
    kind: 'http',
    requestId: 'r',
    method,
    path: '/v1/charges',
    rawPath: '/v1/charges',
    query: '',
    host: 'payments',
    scheme: 'http',
    protocol: 'HTTP/2',
    headers: new Map(),
    source: principal === undefined ? {} : { principal },
    destination: {},
    contextExtensions: new Map([['service', 'payments']]),
    sni: '',
    filterMetadata: {},
  };
}

const foundationIdentity = await createIdentityResolver(undefined, { baseDir: '.' });

describe('Authorizer', () => {
  it('allows what the policy allows and names the caller for the upstream', () => {
    const authorizer = new Authorizer({ snapshots: { current: snapshot() }, identity: foundationIdentity });
    const result = authorizer.authorize(request(CHECKOUT));
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toMatchObject({ decision: { verdict: 'allow', reason: 'policy_allow', generation: 1 }, subject: { workload: { uri: CHECKOUT } } });
  });

  it('carries the destination it decided for in the result, also when identity fails', async () => {
    const authorizer = new Authorizer({ snapshots: { current: snapshot() }, identity: foundationIdentity });
    expect(authorizer.authorize(request(CHECKOUT))).toMatchObject({ destination: 'payments' });
    expect(authorizer.authorize(request('not-spiffe'))).toEqual({ decision: expect.objectContaining({ reason: 'invalid_principal' }), destination: 'payments' });
    const later = new Authorizer({ snapshots: { current: snapshot() }, identity: { resolve: () => Promise.reject(new Error('down')) } });
    expect(await later.authorize(request(CHECKOUT))).toMatchObject({ decision: { reason: 'internal_error' }, destination: 'payments' });
  });

  it('denies by default what no policy allows', () => {
    const authorizer = new Authorizer({ snapshots: { current: snapshot() }, identity: foundationIdentity });
    expect(authorizer.authorize(request(CHECKOUT, 'DELETE'))).toMatchObject({ decision: { verdict: 'deny', reason: 'default_deny' } });
  });

  it('denies with not_ready while no snapshot is loaded', () => {
    const authorizer = new Authorizer({ snapshots: { current: undefined }, identity: foundationIdentity });
    expect(authorizer.authorize(request(CHECKOUT))).toMatchObject({ decision: { verdict: 'deny', reason: 'not_ready' } });
  });

  it('answers 401 for a principal that is not a SPIFFE ID, whatever the policy says', () => {
    const authorizer = new Authorizer({ snapshots: { current: snapshot() }, identity: foundationIdentity });
    expect(authorizer.authorize(request('spiffe://PROD/x'))).toMatchObject({
      decision: { verdict: 'unauthenticated', reason: 'invalid_principal' },
    });
  });

  it.each([
    ['a thrown identity error', () => { throw new IdentityError('ERR_TRUST_DOMAIN_UNTRUSTED', 'principal', 'no such trust domain'); }, 'untrusted_trust_domain'],
    ['a rejected identity promise', () => Promise.reject(new Error('boom')), 'internal_error'],
    ['an error carrying a reason outside the closed set', () => { throw Object.assign(new Error('x'), { reason: 'allow_everything' }); }, 'internal_error'],
  ] as const)('fails closed on %s', async (_what, resolve, reason) => {
    const identity = { resolve } as unknown as SubjectResolver;
    const authorizer = new Authorizer({ snapshots: { current: snapshot() }, identity });
    const { decision } = await authorizer.authorize(request(CHECKOUT));
    expect(decision.verdict).not.toBe('allow');
    expect(decision.reason).toBe(reason);
  });

  it('denies with internal_error when the tree throws', () => {
    const broken = { ...snapshot(), tree: { evaluate: () => { throw new Error('bug'); }, reads: new Set(), stats: {} } } as unknown as PolicySnapshot;
    const authorizer = new Authorizer({ snapshots: { current: broken }, identity: foundationIdentity });
    expect(authorizer.authorize(request(CHECKOUT))).toMatchObject({ decision: { verdict: 'deny', reason: 'internal_error' } });
  });

  it('keeps the enforced answer when the shadow observer throws, and reports the error', () => {
    const reported: unknown[] = [];
    const authorizer = new Authorizer({
      snapshots: { current: snapshot() },
      identity: foundationIdentity,
      observe: () => {
        throw new Error('shadow sink broke');
      },
      onObserveError: (error) => reported.push(error),
    });
    expect(authorizer.authorize(request(CHECKOUT))).toMatchObject({ decision: { verdict: 'allow', reason: 'policy_allow' } });
    expect(reported).toHaveLength(1);
  });

  it('serves a repeated request from the cache, and never across a snapshot generation', () => {
    const cache = new DecisionCache({ max: 10, ttlMs: 60_000 });
    const source: { current: PolicySnapshot } = { current: snapshot(1) };
    const authorizer = new Authorizer({ snapshots: source, identity: foundationIdentity, cache });
    authorizer.authorize(request(CHECKOUT));
    authorizer.authorize(request(CHECKOUT));
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1 });
    source.current = snapshot(2);
    expect(authorizer.authorize(request(CHECKOUT))).toMatchObject({ decision: { generation: 2 } });
    expect(cache.stats).toMatchObject({ hits: 1, misses: 2 });
  });

  it('does not cache a decision past the expiry of the token it rests on', () => {
    const cache = new DecisionCache({ max: 10, ttlMs: 60_000 });
    const expired: Subject = { expiresAt: 1_000 };
    const identity: SubjectResolver = { resolve: () => expired };
    const authorizer = new Authorizer({ snapshots: { current: snapshot() }, identity, cache, wallNow: () => 2_000_000 });
    authorizer.authorize(request(undefined));
    expect(cache.stats.entries).toBe(0);
  });
});
