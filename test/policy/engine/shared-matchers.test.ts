import { describe, expect, it } from 'vitest';
import { ruleSite } from '../../../src/policy/engine/compile-site.js';
import { SharedMatchers } from '../../../src/policy/engine/shared-matchers.js';

const TRICKY: readonly (readonly string[])[] = [
  ['a'], ['a', 'b'], ['a\u0000b'], ['\u0000a', 'b'], ['\u0000a\u0000b'], ['\u0001a'], [''], ['', ''], ['\u0000'],
  ['["a","b"]'], ['\u0001["a","b"]'], ['b', 'a'], ['a\u0000', 'b'], ['a', '\u0000b'],
];

describe('SharedMatchers', () => {
  it('builds one value per distinct list of values and kind, and never confuses two lists', () => {
    const shared = new SharedMatchers();
    const site = ruleSite('p', 'ALLOW', 0, new Set(), shared);
    const built = TRICKY.map((values) => shared.field('kind', values, site, 'f', (v) => ({ v })));
    expect(new Set(built).size).toBe(TRICKY.length);
    TRICKY.forEach((values, i) => {
      expect(shared.field('kind', [...values], site, 'f', () => ({ v: [] }))).toBe(built[i]);
      expect(built[i]!.v).toStrictEqual(values);
    });
    expect(shared.field('other', ['a'], site, 'f', (v) => ({ v }))).not.toBe(built[0]);
  });

  it('names the field of the first use that fails, and remembers no failure', () => {
    const shared = new SharedMatchers();
    const site = ruleSite('p', 'ALLOW', 3, new Set(), shared);
    const fail = (): never => {
      throw new Error('boom');
    };
    expect(() => shared.field('kind', ['x'], site, 'paths', (_v, s) => (s.field === 'rules[3].paths' ? fail() : 0))).toThrow('boom');
    expect(shared.field('kind', ['x'], site, 'paths', () => 1)).toBe(1);
  });
});
