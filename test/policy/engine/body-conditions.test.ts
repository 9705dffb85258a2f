/**
 * `request.body.json[...]` conditions, decided by the tree and the reference evaluator alike:
 * a JSON field compares as other keys do (a number by its text), and what the policy did not
 * see (a cut, oversized, undeclared, malformed, too deep or ambiguous body, an absent field)
 * never allows, and always lets a DENY that names the field deny.
 */
import { describe, expect, it } from 'vitest';
import type { EngineOptions, Policy } from '../../../src/policy/model.js';
import { decide } from './check-both.js';
import { DENY_BY_DEFAULT, policy, request, subject } from './fixtures.js';

const JSON_TYPE = { 'content-type': 'application/json' };

function post(body: string | Uint8Array | undefined, headers: Record<string, string> = JSON_TYPE) {
  return request({ method: 'POST', path: '/pay', headers, ...(body === undefined ? {} : { body }) });
}

function when(key: string, values?: string[], notValues?: string[]) {
  return [{ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] }];
}

const allowTen = policy({ id: 'allow-ten', rules: when('request.body.json[amount]', ['10']) });
const denyBig = policy({ id: 'deny-big', action: 'DENY', rules: when('request.body.json[amount]', ['100000']) });
const allowAll = policy({ id: 'allow-all' });

function effect(policies: readonly Policy[], body: string | Uint8Array | undefined, headers?: Record<string, string>, options: EngineOptions = DENY_BY_DEFAULT) {
  const evaluation = decide(policies, options, subject(), post(body, headers));
  return `${evaluation.effect} ${evaluation.reason}`;
}

describe('a body field that was seen', () => {
  it.each([
    ['a number', '{"amount":10}'],
    ['a number written with a fraction of zero', '{"amount":10.0}'],
    ['a string', '{"amount":"10"}'],
    ['a body with spaces and other fields', ' { "note": "x", "amount" : 10 } '],
  ])('allows when %s matches the value "10"', (_what, body) => {
    expect(effect([allowTen], body)).toBe('allow policy_allow');
  });

  it('does not allow a value that differs', () => {
    expect(effect([allowTen], '{"amount":11}')).toBe('deny default_deny');
    expect(effect([allowTen], '{"amount":"10 "}')).toBe('deny default_deny');
  });

  it('is denied by a DENY that names its value, and allowed past one that does not', () => {
    expect(effect([denyBig, allowAll], '{"amount":100000}')).toBe('deny policy_deny');
    expect(effect([denyBig, allowAll], '{"amount":10}')).toBe('allow policy_allow');
  });

  it.each([
    ['application/json; charset=utf-8'],
    ['Application/JSON; charset="UTF-8"'],
    ['application/json;foo=bar'],
  ])('is read under the content type %s', (type) => {
    expect(effect([allowTen], '{"amount":10}', { 'content-type': type })).toBe('allow policy_allow');
  });

  it('is read when Envoy says the body is whole (x-envoy-auth-partial-body: false)', () => {
    expect(effect([allowTen], '{"amount":10}', { ...JSON_TYPE, 'x-envoy-auth-partial-body': 'false' })).toBe('allow policy_allow');
  });

  it('follows nested names, and prefixes, suffixes, presence and booleans as other keys do', () => {
    const nested = policy({ id: 'nested', rules: when('request.body.json[order][account]', ['acct-*']) });
    expect(effect([nested], '{"order":{"account":"acct-7"}}')).toBe('allow policy_allow');
    expect(effect([nested], '{"order":{"account":"other"}}')).toBe('deny default_deny');
    expect(effect([nested], '{"order":"acct-7"}')).toBe('deny default_deny');
    const flag = policy({ id: 'flag', rules: when('request.body.json[dryRun]', ['true']) });
    expect(effect([flag], '{"dryRun":true}')).toBe('allow policy_allow');
    const present = policy({ id: 'present', rules: when('request.body.json[id]', ['*']) });
    expect(effect([present], '{"id":0}')).toBe('allow policy_allow');
  });

  it('allows by notValues only a value that is there and matches none of them', () => {
    const notTest = policy({ id: 'not-test', rules: when('request.body.json[currency]', undefined, ['XTS']) });
    expect(effect([notTest], '{"currency":"EUR"}')).toBe('allow policy_allow');
    expect(effect([notTest], '{"currency":"XTS"}')).toBe('deny default_deny');
    expect(effect([notTest], '{"other":"EUR"}')).toBe('deny default_deny');
  });

  it('as a list, allows only when every element passes, and is denied when any one matches a DENY', () => {
    const allowSome = policy({ id: 'allow-some', rules: when('request.body.json[amount]', ['10', '20']) });
    expect(effect([allowSome], '{"amount":[10,20]}')).toBe('allow policy_allow');
    expect(effect([allowSome], '{"amount":[10,30]}')).toBe('deny default_deny');
    expect(effect([denyBig, allowAll], '{"amount":[10,100000]}')).toBe('deny policy_deny');
    expect(effect([denyBig, allowAll], '{"amount":[10,20]}')).toBe('allow policy_allow');
  });

  it('is unaffected by a name repeated away from the path the policies read', () => {
    expect(effect([allowTen], '{"amount":10,"note":"a","note":"b","items":[{"amount":1,"amount":2}]}')).toBe('allow policy_allow');
  });
});

// Each body would allow (amount 10) were it trusted; none may, and the DENY must deny them all.
type Unseen = readonly [what: string, body: string | Uint8Array | undefined, headers?: Record<string, string>];

const UNSEEN: readonly Unseen[] = [
  ['no body at all', undefined],
  ['an empty body', ''],
  ['a body Envoy cut short (x-envoy-auth-partial-body: true)', '{"amount":10}', { ...JSON_TYPE, 'x-envoy-auth-partial-body': 'true' }],
  ['a partial-body header that is neither true nor false', '{"amount":10}', { ...JSON_TYPE, 'x-envoy-auth-partial-body': 'yes' }],
  ['a body without a content type', '{"amount":10}', {}],
  ['a body declared text/plain', '{"amount":10}', { 'content-type': 'text/plain' }],
  ['a body declared in another charset', '{"amount":10}', { 'content-type': 'application/json; charset=iso-8859-1' }],
  ['a body declared twice, as two types', '{"amount":10}', { 'content-type': 'application/json,text/plain' }],
  ['a compressed body', '{"amount":10}', { ...JSON_TYPE, 'content-encoding': 'gzip' }],
  ['a body that is not JSON', 'amount=10'],
  ['JSON cut mid-object', '{"amount":10'],
  ['a top-level list', '[{"amount":10}]'],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"amount":10,"n":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
  ['a byte-order mark', `\ufeff{"amount":10}`],
  ['nesting past 32 levels anywhere', `{"amount":10,"x":${'['.repeat(33)}${']'.repeat(33)}}`],
  ['the name repeated (JSON.parse keeps the last, many parsers the first)', '{"amount":100000,"amount":10}'],
  ['the name repeated under an escape', '{"amount":100000,"\\u0061mount":10}'],
  ['the name repeated in another case (some decoders bind AMOUNT to amount)', '{"amount":10,"AMOUNT":100000}'],
  ['the name repeated with a NUL after it (decoders on C strings read "amount\\u0000" as amount)', '{"amount\\u0000":100000,"amount":10}'],
  ['the name only in another case', '{"Amount":10}'],
  ['an absent field', '{"total":10}'],
  ['a null field', '{"amount":null}'],
  ['an object field', '{"amount":{"value":10}}'],
  ['an empty list', '{"amount":[]}'],
  ['a list holding an object', '{"amount":[10,{"v":100000}]}'],
];

describe.each(UNSEEN.map(([what, body, headers = JSON_TYPE]) => ({ what, body, headers })))('$what', ({ body, headers }) => {
  it('is never allowed by a body condition', () => {
    expect(effect([allowTen], body, headers)).toBe('deny default_deny');
  });

  it('is denied by a DENY that names the field', () => {
    expect(effect([denyBig, allowAll], body, headers)).toBe('deny policy_deny');
  });
});

describe('what bounds the body', () => {
  it('does not read a body over maxBodyBytes', () => {
    const body = `{"amount":10,"pad":"${'x'.repeat(100)}"}`;
    const small = { ...DENY_BY_DEFAULT, maxBodyBytes: body.length - 1 };
    expect(effect([allowTen], body, JSON_TYPE, small)).toBe('deny default_deny');
    expect(effect([denyBig, allowAll], body, JSON_TYPE, small)).toBe('deny policy_deny');
    expect(effect([allowTen], body, JSON_TYPE, { ...small, maxBodyBytes: body.length })).toBe('allow policy_allow');
  });

  it('reads nesting of exactly 32 levels', () => {
    expect(effect([allowTen], `{"amount":10,"x":${'['.repeat(31)}${']'.repeat(31)}}`)).toBe('allow policy_allow');
  });

  it('does not compare an integer past 2^53, whose text would not be the number sent', () => {
    const exact = policy({ id: 'exact', rules: when('request.body.json[id]', ['9007199254740992']) });
    expect(effect([exact], '{"id":9007199254740993}')).toBe('deny default_deny');
    expect(effect([exact], '{"id":"9007199254740992"}')).toBe('allow policy_allow');
  });

  // A workload decoding exact decimals (json.Number, BigDecimal, Decimal) would see another amount
  // than the double's text: such a body is unseen, as an integer past 2^53 is.
  it('does not compare a number whose text as a double is not the number sent: the body is unseen', () => {
    expect(effect([allowTen], '{"amount":10.0000000000000001}')).toBe('deny default_deny');
    expect(effect([allowTen], '{"amount":9.99999999999999999}')).toBe('deny default_deny');
    expect(effect([allowTen], '{"amount":10,"fee":1e400}')).toBe('deny default_deny');
    expect(effect([denyBig, allowAll], '{"amount":100000.00000000000001}')).toBe('deny policy_deny');
  });

  it('compares numbers a double holds exactly, however they are written', () => {
    for (const amount of ['10', '10.0', '1e1', '1.0E+1', '10.000000000000000000']) expect(effect([allowTen], `{"amount":${amount}}`), amount).toBe('allow policy_allow');
    expect(effect([allowTen], '{"amount":10,"pi":3.141592653589793,"zero":-0,"tiny":5e-324}')).toBe('allow policy_allow');
  });

  it('refuses a maxBodyBytes that is not a positive integer', () => {
    for (const maxBodyBytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => effect([allowTen], '{}', JSON_TYPE, { ...DENY_BY_DEFAULT, maxBodyBytes })).toThrow(TypeError);
    }
  });
});

describe('an AUDIT on a body field', () => {
  it('marks a request whose body it could not see, and not one it saw to differ', () => {
    const audit = policy({ id: 'audit-big', action: 'AUDIT', rules: when('request.body.json[amount]', ['100000']) });
    const audited = (body: string, headers?: Record<string, string>) => decide([audit, allowAll], DENY_BY_DEFAULT, subject(), post(body, headers)).audit;
    expect(audited('{"amount":10}', { ...JSON_TYPE, 'x-envoy-auth-partial-body': 'true' })).toEqual({ policy: 'audit-big', rule: 0 });
    expect(audited('{"amount":100000}')).toEqual({ policy: 'audit-big', rule: 0 });
    expect(audited('{"amount":10}')).toBeUndefined();
  });
});
