import { describe, expect, it } from 'vitest';
import type { Subject } from '../../../src/domain/subject.js';
import type { Rule } from '../../../src/policy/model.js';
import { decide } from './check-both.js';
import { BATCH, CHECKOUT, DENY_BY_DEFAULT, policy, request, subject, type RequestSpec } from './fixtures.js';

/** Whether one ALLOW rule matches; `decide` also holds the tree to the reference. */
function checkRule(rule: Rule, who: Subject, spec: RequestSpec, expected: boolean): void {
  const evaluation = decide([policy({ id: 'p', rules: [rule] })], DENY_BY_DEFAULT, who, request(spec));
  expect(evaluation.effect === 'allow').toBe(expected);
}

const alice = subject(CHECKOUT, { principal: 'https://idp.example/alice', audiences: ['payments'], presenter: 'web', claims: { groups: ['dev', 'admin'], org: { id: 'o1' }, level: 4 } });
const anonymous = subject();

describe('source fields', () => {
  it.each([
    ['principals match the workload ID', { from: [{ principals: [CHECKOUT] }] }, alice, true],
    ['principals in Istio form match', { from: [{ principals: ['prod.example/ns/checkout/sa/checkout'] }] }, alice, true],
    ['principals never match without a workload', { from: [{ principals: ['*'] }] }, anonymous, false],
    ['notPrincipals match another workload', { from: [{ notPrincipals: [BATCH] }] }, alice, true],
    ['notPrincipals refuse the listed workload', { from: [{ notPrincipals: [CHECKOUT] }] }, alice, false],
    ['notPrincipals match when there is no workload (Istio)', { from: [{ notPrincipals: [CHECKOUT] }] }, anonymous, true],
    ['namespaces read the ns of the workload ID', { from: [{ namespaces: ['checkout'] }] }, alice, true],
    ['namespaces refuse another', { from: [{ namespaces: ['billing'] }] }, alice, false],
    ['requestPrincipals read the end user', { from: [{ requestPrincipals: ['https://idp.example/*'] }] }, alice, true],
    ['requestPrincipals never match without a user', { from: [{ requestPrincipals: ['*'] }] }, subject(CHECKOUT), false],
    ['notRequestPrincipals match without a user', { from: [{ notRequestPrincipals: ['*'] }] }, subject(CHECKOUT), true],
    ['fields of one source are AND-ed', { from: [{ principals: [CHECKOUT], namespaces: ['billing'] }] }, alice, false],
    ['from entries are OR-ed', { from: [{ principals: [BATCH] }, { namespaces: ['checkout'] }] }, alice, true],
    ['an empty list constrains nothing (Istio)', { from: [{ principals: [] }] }, anonymous, true],
    ['a rule with nothing matches every request', {}, anonymous, true],
  ] as const)('%s', (_name, rule, who, expected) => checkRule(rule, who, {}, expected));
});

describe('source addresses', () => {
  it.each([
    ['ipBlocks read the peer address', { from: [{ ipBlocks: ['10.0.0.0/8'] }] }, { source: { address: '10.2.3.4' } }, true],
    ['ipBlocks never match without an address', { from: [{ ipBlocks: ['0.0.0.0/0'] }] }, {}, false],
    ['notIpBlocks match without an address', { from: [{ notIpBlocks: ['10.0.0.0/8'] }] }, {}, true],
    ['remoteIpBlocks read the same address', { from: [{ remoteIpBlocks: ['10.0.0.0/8'] }] }, { source: { address: '::ffff:10.0.0.1' } }, true],
  ] as const)('%s', (_name, rule, spec, expected) => checkRule(rule, alice, spec, expected));
});

describe('operation fields', () => {
  it.each([
    ['methods', { to: [{ methods: ['GET', 'HEAD'] }] }, { method: 'GET' }, true],
    ['notMethods', { to: [{ notMethods: ['GET'] }] }, { method: 'GET' }, false],
    ['paths with a template', { to: [{ paths: ['/v1/{*}/refunds'] }] }, { path: '/v1/ch_1/refunds' }, true],
    ['paths with a prefix', { to: [{ paths: ['/v1/*'] }] }, { path: '/v2/x' }, false],
    ['notPaths', { to: [{ notPaths: ['/admin/*'] }] }, { path: '/admin/users' }, false],
    ['hosts are case-insensitive', { to: [{ hosts: ['Payments.Prod.svc'] }] }, { host: 'payments.prod.svc' }, true],
    ['ports read the destination port', { to: [{ ports: ['8080'] }] }, { destination: { port: 8080 } }, true],
    ['ports never match without one', { to: [{ ports: ['8080'] }] }, {}, false],
    ['notPorts', { to: [{ notPorts: ['8080'] }] }, { destination: { port: 9090 } }, true],
    ['to entries are OR-ed', { to: [{ methods: ['POST'] }, { paths: ['/'] }] }, { method: 'GET', path: '/' }, true],
    ['from, to and when are AND-ed', { from: [{ principals: [CHECKOUT] }], to: [{ methods: ['POST'] }] }, { method: 'GET' }, false],
  ] as const)('%s', (_name, rule, spec, expected) => checkRule(rule, alice, spec, expected));
});

describe('when conditions', () => {
  const when = (key: string, values?: string[], notValues?: string[]): Rule => ({ when: [{ key, values, notValues }] });
  it.each([
    ['a header', when('request.headers[X-Tenant]', ['acme']), { headers: { 'x-tenant': 'acme' } }, true],
    ['an absent header never matches values', when('request.headers[x-tenant]', ['*']), {}, false],
    ['an absent header matches notValues', when('request.headers[x-tenant]', undefined, ['acme']), {}, true],
    ['values and notValues are AND-ed', when('request.headers[x-tenant]', ['a*'], ['acme']), { headers: { 'x-tenant': 'acme' } }, false],
    ['a list claim matches when any element does', when('request.auth.claims[groups]', ['admin']), {}, true],
    ['a nested claim', when('request.auth.claims[org][id]', ['o1']), {}, true],
    ['a number claim as text', when('request.auth.claims[level]', ['4']), {}, true],
    ['a missing claim', when('request.auth.claims[tier]', ['*']), {}, false],
    ['audiences: any matches', when('request.auth.audiences', ['pay*']), {}, true],
    ['presenter', when('request.auth.presenter', ['web']), {}, true],
    ['request principal', when('request.auth.principal', ['https://idp.example/alice']), {}, true],
    ['source.ip', when('source.ip', ['10.0.0.0/8']), { source: { address: '10.0.0.1' } }, true],
    ['remote.ip is the source address', when('remote.ip', ['10.0.0.0/8']), { source: { address: '11.0.0.1' } }, false],
    ['source.namespace', when('source.namespace', ['checkout']), {}, true],
    ['source.principal in Istio form', when('source.principal', ['prod.example/ns/checkout/sa/checkout']), {}, true],
    ['destination.ip', when('destination.ip', ['2001:db8::/32']), { destination: { address: '2001:db8::9' } }, true],
    ['destination.port', when('destination.port', ['443']), { destination: { port: 443 } }, true],
    ['connection.sni', when('connection.sni', ['*.svc']), { sni: 'payments.svc' }, true],
    ['an empty SNI is absent', when('connection.sni', ['*']), {}, false],
  ] as const)('%s', (_name, rule, spec, expected) => checkRule(rule, alice, spec, expected));
});
