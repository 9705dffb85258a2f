import { describe, expect, it } from 'vitest';
import { compilePathMatch, PathSetMatcher } from '../../../../src/policy/engine/matchers/path-match.js';

function checkMatcher(pattern: string, path: string, expected: boolean): void {
  expect(compilePathMatch(pattern).matches(path), `${pattern} vs ${path}`).toBe(expected);
  expect(new PathSetMatcher([pattern]).matches(path), `set ${pattern} vs ${path}`).toBe(expected);
}

describe('path match', () => {
  it.each([
    ['exact', '/v1/charges', '/v1/charges', true],
    ['exact refuses a trailing slash', '/v1/charges', '/v1/charges/', false],
    ['prefix', '/v1/charges/*', '/v1/charges/ch_1', true],
    ['prefix is not segment-aligned', '/v1/char*', '/v1/charges', true],
    ['prefix refuses the parent', '/v1/charges/*', '/v1/charges', false],
    ['suffix', '*.json', '/a/b.json', true],
    ['presence', '*', '/anything', true],
    ['{*} matches one segment', '/v1/{*}/refunds', '/v1/ch_1/refunds', true],
    ['{*} does not match two segments', '/v1/{*}/refunds', '/v1/a/b/refunds', false],
    ['{*} does not match an empty segment', '/v1/{*}/refunds', '/v1//refunds', false],
    ['{*} at the end', '/v1/{*}', '/v1/x', true],
    ['{*} at the end refuses a further segment', '/v1/{*}', '/v1/x/y', false],
    ['{*} at the end refuses a trailing slash', '/v1/{*}', '/v1/x/', false],
    ['{**} matches one segment', '/v1/{**}', '/v1/a', true],
    ['{**} matches many segments', '/v1/{**}', '/v1/a/b/c', true],
    ['{**} needs at least one segment', '/v1/{**}', '/v1/', false],
    ['{**} refuses the parent', '/v1/{**}', '/v1', false],
    ['templates need the literals to match', '/v1/{*}/refunds', '/v2/x/refunds', false],
    ['a literal segment must match whole', '/v1/{*}', '/v10/x', false],
    ['the root template', '/{**}', '/x', true],
  ])('%s', (_name, pattern, path, expected) => checkMatcher(pattern, path, expected));

  it.each([['/v1/{**}/x'], ['/v1/{id}'], ['/v1/a{*}'], ['v1/{*}'], ['/v1/{*}/x*']])('refuses the template %s', (pattern) => {
    expect(() => compilePathMatch(pattern)).toThrowError(expect.objectContaining({ code: 'ERR_COMPILE_PATH_TEMPLATE' }));
  });
});
