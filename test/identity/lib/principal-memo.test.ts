import { describe, expect, it } from 'vitest';
import { PrincipalMemo } from '../../../src/identity/lib/principal-memo.js';

describe('PrincipalMemo', () => {
  it('makes a value once per principal and answers the same value after', () => {
    const memo = new PrincipalMemo<{ p: string }>(4);
    let made = 0;
    const make = (p: string) => ({ p, n: ++made });
    const first = memo.get('spiffe://a/x', make);
    expect(memo.get('spiffe://a/x', make)).toBe(first);
    expect(made).toBe(1);
  });

  it('keeps nothing when making throws, so the next call throws again', () => {
    const memo = new PrincipalMemo<string>(4);
    const bad = () => { throw new Error('not a SPIFFE ID'); };
    expect(() => memo.get('x', bad)).toThrow('not a SPIFFE ID');
    expect(() => memo.get('x', bad)).toThrow('not a SPIFFE ID');
  });

  it('stays bounded: when full it starts over', () => {
    const memo = new PrincipalMemo<number>(2);
    let made = 0;
    const make = () => ++made;
    memo.get('a', make);
    memo.get('b', make);
    memo.get('c', make); // full: forgets a and b
    expect(memo.get('a', make)).toBe(4);
  });

  it('refuses an unbounded or empty memo', () => {
    expect(() => new PrincipalMemo(0)).toThrow(TypeError);
    expect(() => new PrincipalMemo(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});
