import { describe, expect, it } from 'vitest';
import { compileTree, decisionKey, decisionKeyBuilder } from '../../../src/policy/engine/index.js';
import type { Policy } from '../../../src/policy/model.js';
import { BATCH, CHECKOUT, DENY_BY_DEFAULT, connection, policy, request, subject } from './fixtures.js';

function reads(policies: readonly Policy[]): string[] {
  return [...compileTree(policies, DENY_BY_DEFAULT).reads];
}

describe('reads', () => {
  it('is empty without policies: every request gets the same decision', () => {
    expect(reads([])).toEqual([]);
  });

  it('names exactly the attributes the policies read, sorted', () => {
    const p = policy({
      id: 'p',
      scope: { services: ['payments'], selector: { app: 'pay' } },
      rules: [{
        from: [{ principals: [CHECKOUT], ipBlocks: ['10.0.0.0/8'] }],
        to: [{ methods: ['GET'], paths: ['/v1/*'] }],
        when: [{ key: 'request.headers[X-Tenant]', values: ['acme'] }, { key: 'request.auth.claims[org][id]', values: ['o1'] }, { key: 'remote.ip', values: ['10.0.0.1'] }],
      }],
    });
    expect(reads([p])).toEqual([
      'claim:org', 'context:app', 'destination.service', 'header:x-tenant', 'method', 'path', 'source.ip', 'source.principal',
    ]);
  });
});

describe('decisionKey', () => {
  const tree = compileTree([policy({ id: 'p', scope: { services: ['payments'] }, rules: [{ from: [{ principals: [CHECKOUT] }], when: [{ key: 'request.headers[x-a]', values: ['1'] }] }] })], DENY_BY_DEFAULT);

  it('ignores attributes the policies do not read', () => {
    const a = decisionKey(tree.reads, subject(CHECKOUT), request({ path: '/a', context: { service: 'payments' } }));
    const b = decisionKey(tree.reads, subject(CHECKOUT), request({ path: '/b', context: { service: 'payments' } }));
    expect(a).toBe(b);
  });

  it('differs when a read attribute differs', () => {
    const a = decisionKey(tree.reads, subject(CHECKOUT), request({ context: { service: 'payments' } }));
    const b = decisionKey(tree.reads, subject(BATCH), request({ context: { service: 'payments' } }));
    expect(a).not.toBe(b);
  });

  it('tells an absent value from an empty one', () => {
    const absent = decisionKey(tree.reads, subject(), request({}));
    const empty = decisionKey(tree.reads, subject(), request({ headers: { 'x-a': '' } }));
    expect(absent).not.toBe(empty);
  });

  it('cannot be confused by values that contain the separator', () => {
    const reads = new Set(['header:a', 'header:b'] as const);
    const one = decisionKey(reads, subject(), request({ headers: { a: '1:x', b: '' } }));
    const two = decisionKey(reads, subject(), request({ headers: { a: '1', b: 'x' } }));
    expect(one).not.toBe(two);
  });

  it.each([
    ['spiffe://prod.example/ns/checkout/sa/a', 'spiffe://prod.example/ns/checkout/sa/b', true],
    ['spiffe://prod.example/ns/checkout/sa/a', 'spiffe://prod.example/ns/batch/sa/a', false],
    ['spiffe://prod.example/ns/checkout', 'spiffe://prod.example/ns/checkout/sa/a', true],
    ['spiffe://prod.example/ns', 'spiffe://prod.example/other/x', true],
    ['spiffe://prod.example/ns', 'spiffe://prod.example/ns/x', false],
  ])('keys source.namespace by the ns segment: %s and %s same = %s', (a, b, same) => {
    const reads = new Set(['source.namespace'] as const);
    expect(decisionKey(reads, subject(a), request({})) === decisionKey(reads, subject(b), request({}))).toBe(same);
  });

  // A DENY on `methods: [TCP]` ignores them on a connection: an HTTP request with method TCP must not lend it its answer.
  it('tells a connection from an HTTP request with the same attributes, whatever the policies read', () => {
    for (const reads of [new Set(['method'] as const), new Set<never>()]) {
      const http = decisionKey(reads, subject(CHECKOUT), request({ method: 'TCP' }));
      expect(decisionKey(reads, subject(CHECKOUT), connection())).not.toBe(http);
    }
  });

  it('compiles one builder per attribute set', () => {
    expect(decisionKeyBuilder(tree.reads)).toBe(decisionKeyBuilder(tree.reads));
  });
});

describe('decisionKey over body fields', () => {
  const json = { 'content-type': 'application/json' };
  const tree = compileTree([policy({ id: 'p', rules: [{ when: [{ key: 'request.body.json[order][amount]', values: ['10'] }] }] })], DENY_BY_DEFAULT);
  const key = (body: string, headers: Record<string, string> = json) => decisionKey(tree.reads, subject(), request({ method: 'POST', headers, body }));

  it('reads the one field the policies name, as its path', () => {
    expect([...tree.reads]).toEqual(['body:["order","amount"]']);
  });

  it('differs when that field differs, and not when other fields do', () => {
    expect(key('{"order":{"amount":10}}')).not.toBe(key('{"order":{"amount":100000}}'));
    expect(key('{"order":{"amount":10,"note":"a"},"x":1}')).toBe(key('{"order":{"amount":10}}'));
  });

  it('gives one key to every way the field can be unseen, for they decide alike', () => {
    const unseen = key('{"order":{"amount":10}}', { ...json, 'x-envoy-auth-partial-body': 'true' });
    expect(key('{"order":{}}')).toBe(unseen);
    expect(key('{"order":{"amount":10}', json)).toBe(unseen);
    expect(key('{"order":{"amount":10}}', { 'content-type': 'text/plain' })).toBe(unseen);
    expect(key('{"order":{"amount":10}}')).not.toBe(unseen);
  });

  it('tells a list from a string that spells one', () => {
    expect(key('{"order":{"amount":["10"]}}')).not.toBe(key('{"order":{"amount":"[\\"10\\"]"}}'));
  });

  it('holds nothing of the body for policies that read none', () => {
    const none = compileTree([policy({ id: 'q', rules: [{ to: [{ methods: ['POST'] }] }] })], DENY_BY_DEFAULT);
    const a = decisionKey(none.reads, subject(), request({ method: 'POST', headers: json, body: '{"amount":1}' }));
    expect(a).toBe(decisionKey(none.reads, subject(), request({ method: 'POST' })));
    expect([...none.reads].some((attribute) => attribute.startsWith('body:'))).toBe(false);
  });
});

