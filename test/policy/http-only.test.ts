/** The HTTP-only parts of a rule: what the engine compiles out for connections and `check` warns about, listed alike. */
import { describe, expect, it } from 'vitest';
import { HTTP_ONLY_OPERATION_FIELDS, HTTP_ONLY_SOURCE_FIELDS, httpOnlyFields, needsHttp } from '../../src/policy/http-only.js';
import type { Rule } from '../../src/policy/model.js';

const HTTP_RULES: readonly [string, Rule][] = [
  ...HTTP_ONLY_SOURCE_FIELDS.map((field): [string, Rule] => [field, { from: [{ principals: ['*'] }, { [field]: ['x'] }] }]),
  ...HTTP_ONLY_OPERATION_FIELDS.map((field): [string, Rule] => [field, { to: [{ ports: ['1'] }, { [field]: ['x'] }] }]),
  ...['request.headers[x]', 'request.auth.claims[a]', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'request.body.json[a]']
    .map((key): [string, Rule] => [key, { when: [{ key: 'source.ip', values: ['10.0.0.1'] }, { key, values: ['x'] }] }]),
];

const CONNECTION_RULES: readonly [string, Rule][] = [
  ['source fields', { from: [{ principals: ['a'], notPrincipals: ['b'], namespaces: ['c'], notNamespaces: ['d'], ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['1.1.1.1'], remoteIpBlocks: ['10.0.0.0/8'], notRemoteIpBlocks: ['1.1.1.1'] }] }],
  ['ports', { to: [{ ports: ['1'], notPorts: ['2'] }] }],
  ['connection keys', { when: ['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port', 'connection.sni'].map((key) => ({ key, values: ['1'] })) }],
  ['empty lists (Istio: unset)', { from: [{ requestPrincipals: [] }], to: [{ methods: [], paths: [] }] }],
  ['nothing', {}],
];

describe('the HTTP-only parts of a rule', () => {
  it.each(HTTP_RULES)('%s is one, found by needsHttp and listed by httpOnlyFields, after what a connection has', (_name, rule) => {
    expect(needsHttp(rule)).toBe(true);
    expect(httpOnlyFields(rule)).toEqual([expect.objectContaining({ path: [expect.any(String), 1, ...(rule.when ? ['key'] : [expect.any(String), _name])] })]);
  });

  it.each(CONNECTION_RULES)('%s are none', (_name, rule) => {
    expect(needsHttp(rule)).toBe(false);
    expect(httpOnlyFields(rule)).toEqual([]);
  });
});
