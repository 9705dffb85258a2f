import { describe, expect, it } from 'vitest';
import { resolveDestination } from '../../../src/policy/engine/destination.js';
import { request, type RequestSpec } from './fixtures.js';

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
