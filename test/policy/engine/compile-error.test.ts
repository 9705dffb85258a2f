import { describe, expect, it } from 'vitest';
import { CompileError, compileTree } from '../../../src/policy/engine/index.js';
import type { Rule } from '../../../src/policy/model.js';
import { DENY_BY_DEFAULT, policy } from './fixtures.js';

function checkRefused(rule: Rule, code: string, field: string): void {
  const compile = () => compileTree([policy({ id: 'ns/bad', rules: [{}, rule] })], DENY_BY_DEFAULT);
  expect(compile).toThrow(CompileError);
  expect(compile).toThrowError(expect.objectContaining({ code, policy: 'ns/bad', field }));
}

describe('compileTree refuses what it cannot compile, naming policy and field', () => {
  it.each([
    ['a bad CIDR', { from: [{ ipBlocks: ['10.0.0.0/8', '300.0.0.0/8'] }] }, 'ERR_COMPILE_CIDR', 'rules[1].from[0].source.ipBlocks'],
    ['a bad port', { to: [{ ports: ['http'] }] }, 'ERR_COMPILE_PORT', 'rules[1].to[0].operation.ports'],
    ['a bad template', { to: [{ paths: ['/a/{**}/b'] }] }, 'ERR_COMPILE_PATH_TEMPLATE', 'rules[1].to[0].operation.paths'],
    ['a bad pattern', { to: [{ methods: ['G*T'] }] }, 'ERR_COMPILE_PATTERN', 'rules[1].to[0].operation.methods'],
    ['a bad principal', { from: [{ notPrincipals: ['Bad.Domain/ns/x'] }] }, 'ERR_COMPILE_PRINCIPAL', 'rules[1].from[0].source.notPrincipals'],
    ['an unknown key', { when: [{ key: 'experimental.envoy.filters.x', values: ['1'] }] }, 'ERR_COMPILE_CONDITION_KEY', 'rules[1].when[0].key'],
    ['a malformed key', { when: [{ key: 'request.headers[]', values: ['1'] }] }, 'ERR_COMPILE_CONDITION_KEY', 'rules[1].when[0].key'],
    ['a body key left open', { when: [{ key: 'request.body.json[', values: ['1'] }] }, 'ERR_COMPILE_CONDITION_KEY', 'rules[1].when[0].key'],
    ['a body key with an empty name', { when: [{ key: 'request.body.json[a][]', values: ['1'] }] }, 'ERR_COMPILE_CONDITION_KEY', 'rules[1].when[0].key'],
    ['a body key with no name', { when: [{ key: 'request.body.json', values: ['1'] }] }, 'ERR_COMPILE_CONDITION_KEY', 'rules[1].when[0].key'],
    ['a body key deeper than a body may be', { when: [{ key: `request.body.json${'[a]'.repeat(33)}`, values: ['1'] }] }, 'ERR_COMPILE_CONDITION_KEY', 'rules[1].when[0].key'],
    ['a bad body value', { when: [{ key: 'request.body.json[a]', notValues: ['a*b'] }] }, 'ERR_COMPILE_PATTERN', 'rules[1].when[0].notValues'],
    ['a condition without values', { when: [{ key: 'source.ip' }] }, 'ERR_COMPILE_CONDITION_EMPTY', 'rules[1].when[0]'],
    ['a bad condition value', { when: [{ key: 'destination.port', notValues: ['99999'] }] }, 'ERR_COMPILE_PORT', 'rules[1].when[0].notValues'],
  ] as const)('%s', (_name, rule, code, field) => checkRefused(rule, code, field));

  it('refuses two policies with one id', () => {
    expect(() => compileTree([policy({ id: 'a' }), policy({ id: 'a' })], DENY_BY_DEFAULT)).toThrowError(
      expect.objectContaining({ code: 'ERR_COMPILE_DUPLICATE_ID', policy: 'a' }),
    );
  });
});
