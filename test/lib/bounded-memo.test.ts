import { describe, expect, it } from 'vitest';
import { BoundedMemo } from '../../src/lib/bounded-memo.js';

/** A maker that counts what it made, each value a new object. */
function counting() {
  let made = 0;
  return { make: (key: string) => ({ key, n: ++made }), made: () => made };
}

describe('BoundedMemo', () => {
  it('makes a value once per key and answers the same value after', () => {
    const memo = new BoundedMemo<{ key: string }>(4);
    const maker = counting();
    const first = memo.get('spiffe://a/x', maker.make);
    expect(memo.get('spiffe://a/x', maker.make)).toBe(first);
    expect(maker.made()).toBe(1);
  });

  it('keeps nothing when making throws, so the next call throws again', () => {
    const memo = new BoundedMemo<string>(4);
    const bad = () => { throw new Error('not a SPIFFE ID'); };
    expect(() => memo.get('x', bad)).toThrow('not a SPIFFE ID');
    expect(memo.has('x')).toBe(false);
    expect(() => memo.get('x', bad)).toThrow('not a SPIFFE ID');
  });

  it('holds no more than its size however many keys it is asked', () => {
    const memo = new BoundedMemo<{ key: string }>(3);
    const maker = counting();
    for (let i = 0; i < 100; i++) memo.get(`p${i}`, maker.make);
    expect(memo.size).toBe(3);
    expect(['p97', 'p98', 'p99'].every((key) => memo.has(key))).toBe(true);
  });

  it('forgets the least recently used key first, not everything', () => {
    const memo = new BoundedMemo<{ key: string }>(2);
    const maker = counting();
    const a = memo.get('a', maker.make);
    memo.get('b', maker.make);
    memo.get('a', maker.make); // a is now more recent than b
    memo.get('c', maker.make); // full: b goes
    expect(memo.has('b')).toBe(false);
    expect(memo.get('a', maker.make)).toBe(a);
    expect(maker.made()).toBe(3);
  });

  it('refuses an unbounded or empty memo', () => {
    expect(() => new BoundedMemo(0)).toThrow(TypeError);
    expect(() => new BoundedMemo(1.5)).toThrow(TypeError);
    expect(() => new BoundedMemo(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});
