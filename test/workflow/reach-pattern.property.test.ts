/**
 * reach's pattern algebra is sound against the engine's own leaf matchers: whenever it says
 * one pattern contains another, every value the inner matches the outer matches; whenever it
 * says two are disjoint, no value matches both; and every instance it makes matches its pattern.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { leafMatches, type LeafKind } from '../../src/policy/engine/reference/leaf.js';
import { contains, disjoint, instances } from '../../src/policy/reach/pattern.js';

const VOCABULARY: Readonly<Record<'string' | 'path' | 'cidr', { patterns: readonly string[]; values: readonly string[] }>> = {
  string: {
    patterns: ['a', 'ab', 'a*', 'ab*', '*b', '*ab', '*', 'b*', 'ba'],
    values: ['a', 'ab', 'abb', 'b', 'ba', 'bab', 'xab', 'aab'],
  },
  path: {
    patterns: ['/a', '/a/b', '/a/*', '/a*', '*/b', '*', '/a/{*}', '/a/{**}', '/{*}/b', '/{*}', '/{**}', '/a/{*}/c', '/b/{*}'],
    values: ['/a', '/a/', '/a/b', '/a/c', '/a/b/c', '/ab', '/b', '/b/b', '/x/b', '/a/x/c', '/'],
  },
  cidr: {
    patterns: ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '192.0.2.0/24', '10.1.2.0/24', '::1', '2001:db8::/32'],
    values: ['10.1.2.3', '10.1.3.4', '10.2.0.1', '192.0.2.9', '::1', '2001:db8::5', '11.0.0.1'],
  },
};

describe.each(Object.keys(VOCABULARY) as (keyof typeof VOCABULARY)[])('%s patterns', (kind) => {
  const { patterns, values } = VOCABULARY[kind];
  const pattern = fc.constantFrom(...patterns);
  const matches = (p: string, v: string) => leafMatches(kind as LeafKind, p, v);

  test('containment and disjointness never claim what a value contradicts', () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const all = [...values, ...instances(kind, a), ...instances(kind, b)];
        if (contains(kind, a, b)) for (const v of all) if (matches(b, v)) expect(matches(a, v), `${a} ⊇ ${b} but ${v}`).toBe(true);
        if (disjoint(kind, a, b)) for (const v of all) expect(matches(a, v) && matches(b, v), `${a} ∩ ${b} = ∅ but ${v}`).toBe(false);
      }),
      { numRuns: 400, seed: 18 },
    );
  });

  test('every instance matches its pattern', () => {
    for (const p of patterns) for (const v of instances(kind, p)) expect(matches(p, v), `${v} of ${p}`).toBe(true);
  });
});
