import { describe, expect, it } from 'vitest';
import { compileStringMatch, compileStringSet } from '../../../../src/policy/engine/matchers/string-match.js';
import { PatternError } from '../../../../src/policy/engine/compile-error.js';

function checkMatcher(pattern: string, value: string, expected: boolean): void {
  expect(compileStringMatch(pattern).matches(value), `${pattern} vs ${value}`).toBe(expected);
  expect(compileStringSet([pattern]).matches(value), `set ${pattern} vs ${value}`).toBe(expected);
}

describe('string match', () => {
  it.each([
    ['exact', 'abc', 'abc', true],
    ['exact is case-sensitive', 'abc', 'ABC', false],
    ['exact does not match a longer value', 'abc', 'abcd', false],
    ['prefix matches the prefix itself', 'abc*', 'abc', true],
    ['prefix matches a longer value', 'abc*', 'abcdef', true],
    ['prefix does not match elsewhere', 'abc*', 'xabc', false],
    ['suffix matches', '*abc', 'xyzabc', true],
    ['suffix does not match a prefix', '*abc', 'abcx', false],
    ['presence matches any value', '*', 'anything', true],
    ['presence matches an empty value', '*', '', true],
  ])('%s', (_name, pattern, value, expected) => checkMatcher(pattern, value, expected));

  it('classifies each pattern by kind', () => {
    expect(['a', 'a*', '*a', '*'].map((p) => compileStringMatch(p).kind)).toEqual(['exact', 'prefix', 'suffix', 'presence']);
  });

  it.each([['a*b'], ['*a*'], ['**']])('refuses a "*" that is not first or last alone: %s', (pattern) => {
    expect(() => compileStringMatch(pattern)).toThrowError(expect.objectContaining({ code: 'ERR_COMPILE_PATTERN' }));
    expect(() => compileStringMatch(pattern)).toThrow(PatternError);
  });

  it('a set matches when any pattern does', () => {
    const set = compileStringSet(['GET', 'PO*', '*CH']);
    expect(['GET', 'POST', 'PATCH', 'DELETE'].map((m) => set.matches(m))).toEqual([true, true, true, false]);
  });
});
