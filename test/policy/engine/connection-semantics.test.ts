/**
 * Istio's semantics for TCP, erring safe: on a connection an ALLOW rule that names anything
 * only an HTTP request has never matches, and a DENY or AUDIT rule ignores those parts and so
 * matches more. Every case is decided by the tree and the reference evaluator alike (`decide`).
 */
import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../../../src/policy/evaluation.js';
import type { Policy, PolicyAction, Rule } from '../../../src/policy/model.js';
import { decide } from './check-both.js';
import { BATCH, CHECKOUT, DENY_BY_DEFAULT, connection, policy, request, subject } from './fixtures.js';

const REDIS = 'spiffe://prod.example/ns/data/sa/redis';
/** A connection from checkout to redis on 6379, as the network filter describes it. */
const TO_REDIS = connection({
  source: { address: '10.1.0.5', port: 40000, principal: CHECKOUT },
  destination: { address: '10.2.0.9', port: 6379, principal: REDIS },
  sni: 'redis.data.svc',
});

function onConnection(policies: readonly Policy[], from = CHECKOUT, request = TO_REDIS): Evaluation {
  return decide(policies, DENY_BY_DEFAULT, subject(from), request);
}

const one = (action: PolicyAction, rule: Rule, id = 'p'): Policy => policy({ id, action, scope: { services: ['redis'] }, rules: [rule] });
const allowCheckout = one('ALLOW', { from: [{ principals: [CHECKOUT] }] }, 'base');

describe('an ALLOW rule on a connection', () => {
  it.each([
    ['principals', { from: [{ principals: [CHECKOUT] }] }],
    ['namespaces and ipBlocks', { from: [{ namespaces: ['checkout'], ipBlocks: ['10.1.0.0/16'] }] }],
    ['ports', { from: [{ principals: [CHECKOUT] }], to: [{ ports: ['6379'] }] }],
    ['connection.sni, destination.ip and destination.port conditions', {
      when: [
        { key: 'connection.sni', values: ['*.data.svc'] },
        { key: 'destination.ip', values: ['10.2.0.0/16'] },
        { key: 'destination.port', values: ['6379'] },
      ],
    }],
    ['source.principal, source.namespace and remote.ip conditions', {
      when: [
        { key: 'source.principal', values: [CHECKOUT] },
        { key: 'source.namespace', values: ['checkout'] },
        { key: 'remote.ip', values: ['10.1.0.5'] },
      ],
    }],
  ] as const)('matches when it names only what a connection has: %s', (_name, rule) => {
    expect(onConnection([one('ALLOW', rule)])).toMatchObject({ effect: 'allow', reason: 'policy_allow', by: { policy: 'p', rule: 0 } });
  });

  it.each([
    ['methods', { to: [{ methods: ['GET'] }] }],
    ['notMethods', { to: [{ notMethods: ['DELETE'] }] }],
    ['paths', { to: [{ paths: ['*'] }] }],
    ['notPaths', { to: [{ notPaths: ['/admin'] }] }],
    ['hosts', { to: [{ hosts: ['*'] }] }],
    ['notHosts', { to: [{ notHosts: ['evil.example'] }] }],
    ['requestPrincipals', { from: [{ requestPrincipals: ['*'] }] }],
    ['notRequestPrincipals', { from: [{ notRequestPrincipals: ['*'] }] }],
    ['a header condition', { when: [{ key: 'request.headers[x-tenant]', notValues: ['evil'] }] }],
    ['a claim condition', { when: [{ key: 'request.auth.claims[groups]', notValues: ['x'] }] }],
    ['a request.auth.principal condition', { when: [{ key: 'request.auth.principal', notValues: ['x'] }] }],
    ['a body condition', { when: [{ key: 'request.body.json[amount]', notValues: ['1'] }] }],
    ['an HTTP field in another from entry than the one that matches', { from: [{ principals: [CHECKOUT] }, { requestPrincipals: ['*'] }] }],
    ['an HTTP field in another to entry than the one that matches', { to: [{ ports: ['6379'] }, { methods: ['GET'] }] }],
  ] as const)('never matches when it names %s, even one every request would satisfy', (_name, rule) => {
    expect(onConnection([one('ALLOW', { from: [{ principals: [CHECKOUT] }], ...rule })])).toEqual({ effect: 'deny', reason: 'default_deny' });
  });

  it('leaves the other rules of its policy to match', () => {
    const p = policy({ id: 'p', scope: { services: ['redis'] }, rules: [{ to: [{ methods: ['GET'] }] }, { from: [{ principals: [CHECKOUT] }] }] });
    expect(onConnection([p])).toMatchObject({ effect: 'allow', by: { policy: 'p', rule: 1 } });
  });

  it('still matches the HTTP request its fields describe', () => {
    const rule = { from: [{ principals: [CHECKOUT] }], to: [{ methods: ['GET'] }] };
    expect(decide([one('ALLOW', rule)], DENY_BY_DEFAULT, subject(CHECKOUT), request({ context: { service: 'redis' } }))).toMatchObject({ effect: 'allow' });
  });
});

describe('a DENY rule on a connection', () => {
  it.each([
    ['paths only: it denies every connection', { to: [{ paths: ['/admin/*'] }] }],
    ['methods and principals: it denies that principal', { from: [{ principals: [CHECKOUT] }], to: [{ methods: ['POST'] }] }],
    ['notMethods', { to: [{ notMethods: ['GET'] }] }],
    ['requestPrincipals beside principals', { from: [{ principals: [CHECKOUT], requestPrincipals: ['https://idp.example/*'] }] }],
    ['a header condition', { when: [{ key: 'request.headers[x-tenant]', values: ['evil'] }] }],
    ['a claim condition beside a port', { to: [{ ports: ['6379'] }], when: [{ key: 'request.auth.claims[role]', values: ['intern'] }] }],
    ['a body condition', { when: [{ key: 'request.body.json[amount]', values: ['100000'] }] }],
    ['a to entry of HTTP fields beside one of another port', { to: [{ methods: ['GET'] }, { ports: ['9999'] }] }],
  ] as const)('ignores its HTTP-only fields and denies more broadly: %s', (_name, rule) => {
    expect(onConnection([allowCheckout, one('DENY', rule)])).toMatchObject({ effect: 'deny', reason: 'policy_deny', by: { policy: 'p', rule: 0 } });
  });

  it('still needs what a connection has: a DENY on another principal, or another port, lets checkout on', () => {
    const otherPrincipal = one('DENY', { from: [{ principals: [BATCH] }], to: [{ methods: ['POST'] }] });
    const otherPort = one('DENY', { to: [{ ports: ['6380'], paths: ['/x'] }] }, 'q');
    expect(onConnection([allowCheckout, otherPrincipal, otherPort])).toMatchObject({ effect: 'allow', by: { policy: 'base' } });
  });

  it('denies an HTTP request only where its HTTP fields match', () => {
    const deny = one('DENY', { to: [{ methods: ['POST'] }] });
    const http = (method: string) => decide([allowCheckout, deny], DENY_BY_DEFAULT, subject(CHECKOUT), request({ method, context: { service: 'redis' } }));
    expect(http('GET')).toMatchObject({ effect: 'allow' });
    expect(http('POST')).toMatchObject({ effect: 'deny', reason: 'policy_deny' });
  });

  it('denies in dry-run the same way, without enforcing it', () => {
    const dry = policy({ id: 'dry', action: 'DENY', mode: 'dry-run', rules: [{ to: [{ paths: ['/admin'] }] }] });
    expect(onConnection([allowCheckout, dry])).toMatchObject({ effect: 'allow', dryRun: { verdict: 'deny', by: { policy: 'dry', rule: 0 } } });
  });
});

describe('an AUDIT rule on a connection', () => {
  it('ignores its HTTP-only fields, so it marks more connections', () => {
    const audit = one('AUDIT', { from: [{ principals: [CHECKOUT] }], to: [{ methods: ['DELETE'] }] }, 'audit');
    expect(onConnection([allowCheckout, audit])).toMatchObject({ effect: 'allow', audit: { policy: 'audit', rule: 0 } });
  });
});

describe('the destination of a connection', () => {
  const at = (service: string) => policy({ id: 'to', scope: { services: [service] }, rules: [{}] });

  it("is the destination SPIFFE ID's service account, and its namespace", () => {
    expect(onConnection([at('redis')])).toMatchObject({ effect: 'allow' });
    expect(onConnection([policy({ id: 'data/ns', scope: { namespace: 'data' }, rules: [{}] })])).toMatchObject({ effect: 'allow' });
  });

  it('is the destination port without a SPIFFE ID', () => {
    const plain = connection({ source: { address: '10.1.0.5' }, destination: { address: '10.2.0.9', port: 6379 }, sni: 'redis.data.svc' });
    expect(onConnection([at('6379')], CHECKOUT, plain)).toMatchObject({ effect: 'allow' });
    expect(onConnection([at('redis.data.svc')], CHECKOUT, plain)).toEqual({ effect: 'deny', reason: 'default_deny' });
  });

  it('is the SNI without a SPIFFE ID or a port', () => {
    const pipe = connection({ sni: 'redis.data.svc' });
    expect(onConnection([at('redis.data.svc')], CHECKOUT, pipe)).toMatchObject({ effect: 'allow' });
  });
});
