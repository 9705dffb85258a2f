import { describe, expect, it } from 'vitest';
import type { SpiffeId } from '../../../src/domain/spiffe-id.js';
import { BoundedMemo } from '../../../src/lib/bounded-memo.js';
import { DestinationResolver, resolveDestination, resolveDestinationInto } from '../../../src/policy/engine/destination.js';
import { compileTree, decisionKeyBuilder } from '../../../src/policy/engine/index.js';
import { connection, DENY_BY_DEFAULT, policy, request, subject, type ConnectionSpec, type RequestSpec } from './fixtures.js';

describe('resolveDestination', () => {
  it.each([
    ['context extensions come first', { context: { service: 'svc', namespace: 'ns' }, destination: { principal: 'spiffe://td/ns/other/sa/other' } }, { service: 'svc', namespace: 'ns' }],
    ["then the destination SPIFFE ID's service account and namespace", { destination: { principal: 'spiffe://td/ns/prod/sa/payments' } }, { service: 'payments', namespace: 'prod' }],
    ['then the host', { host: 'payments.prod.svc' }, { service: 'payments.prod.svc' }],
    ['an ID of another shape names no service', { destination: { principal: 'spiffe://td/workload/x' } }, { service: 'payments.prod.svc' }],
    ['a malformed principal is ignored', { destination: { principal: 'not-spiffe' } }, { service: 'payments.prod.svc' }],
    ['empty context values count as absent', { context: { service: '', namespace: '' }, host: '' }, {}],
  ] as const)('%s', (_name, spec: RequestSpec, expected) => {
    expect(resolveDestination(request(spec))).toStrictEqual(expected);
  });
});

describe('resolveDestination of a connection', () => {
  it.each([
    ["the destination SPIFFE ID's service account and namespace come first", { destination: { principal: 'spiffe://td/ns/data/sa/redis', port: 6379 }, sni: 'cache' }, { service: 'redis', namespace: 'data' }],
    ['then the destination port', { destination: { principal: 'spiffe://td/workload/x', port: 6379 }, sni: 'cache' }, { service: '6379' }],
    ['then the SNI', { sni: 'cache.data.svc' }, { service: 'cache.data.svc' }],
    ['nothing, without any of them', {}, {}],
    ['context_extensions first, though the network filter sends none', { context: { service: 'svc' }, destination: { port: 6379 } }, { service: 'svc' }],
  ] as const)('%s', (_name, spec: ConnectionSpec, expected) => {
    expect(resolveDestination(connection(spec))).toStrictEqual(expected);
  });
});

describe('a destination handed to the tree and the decision key', () => {
  const asked = request({ destination: { principal: 'spiffe://td/ns/prod/sa/svc-1' } });

  it('is the one the tree decides by: it is not worked out again from the request', () => {
    const tree = compileTree([policy({ id: 'to-given', scope: { services: ['given'] } })], DENY_BY_DEFAULT);
    expect(tree.evaluate(subject(), asked).effect).toBe('deny');
    expect(tree.evaluate(subject(), asked, { service: 'given' }).effect).toBe('allow');
  });

  it('is the one the decision key is built from', () => {
    const key = decisionKeyBuilder(new Set(['destination.service']));
    expect(key(subject(), asked, { service: 'given' })).toContain('given');
    expect(key(subject(), asked)).toContain('svc-1');
  });
});

describe('DestinationResolver', () => {
  const PRINCIPAL = (n: number) => ({ destination: { principal: `spiffe://td/ns/prod/sa/svc-${n}` } });

  it('resolves as resolveDestination does', () => {
    const spec = { destination: { principal: 'spiffe://td/ns/prod/sa/payments' } };
    expect(new DestinationResolver().resolve(request(spec))).toStrictEqual(resolveDestination(request(spec)));
  });

  it('works each request out afresh, keeping nothing of the last one', () => {
    const resolver = new DestinationResolver();
    expect(resolver.resolve(request(PRINCIPAL(1)))).toStrictEqual({ service: 'svc-1', namespace: 'prod' });
    expect(resolver.resolve(request(PRINCIPAL(2)))).toStrictEqual({ service: 'svc-2', namespace: 'prod' });
    expect(resolveDestinationInto(request(PRINCIPAL(1)), { service: undefined, namespace: undefined })).toEqual({ service: 'svc-1', namespace: 'prod' });
  });

  it('remembers the destination principals it parsed in the memo it was built with, least recently used out first', () => {
    const memo = new BoundedMemo<SpiffeId | false>(2);
    const resolver = new DestinationResolver(memo);
    for (const n of [1, 2, 1, 3]) resolver.resolve(request(PRINCIPAL(n)));
    expect(memo.size).toBe(2);
    expect(memo.has('spiffe://td/ns/prod/sa/svc-1')).toBe(true);
    expect(memo.has('spiffe://td/ns/prod/sa/svc-2')).toBe(false);
  });

  it('remembers a principal that is not a SPIFFE ID, but never one longer than any SPIFFE ID', () => {
    const memo = new BoundedMemo<SpiffeId | false>(8);
    const resolver = new DestinationResolver(memo);
    const long = `spiffe://td/${'x'.repeat(2100)}`;
    expect(resolver.resolve(request({ destination: { principal: 'not-spiffe' } }))).toStrictEqual({ service: 'payments.prod.svc' });
    expect(resolver.resolve(request({ destination: { principal: long } }))).toStrictEqual({ service: 'payments.prod.svc' });
    expect(memo.has('not-spiffe')).toBe(true);
    expect(memo.has(long)).toBe(false);
  });
});
