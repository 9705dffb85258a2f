/** The bearer token cache: keyed by the token's tail, confirmed on the whole token, on the injected clock. */
import { describe, expect, it } from 'vitest';
import { bearerTokens } from '../../src/identity/lib/bearer-tokens.js';
import { TokenCache } from '../../src/identity/lib/token-cache.js';

const TAIL = 'S'.repeat(40);
const NOW_S = 1_900_000_000;

function cache(now = NOW_S * 1000, maxTtlSeconds = 60): TokenCache<{ n: number }> {
  return new TokenCache({ max: 10, maxTtlSeconds, now: () => now });
}

describe('the bearer token cache', () => {
  it('answers only for the very token stored, not for another with the same tail', () => {
    const c = cache();
    c.set(`a.b.${TAIL}`, { n: 1 }, NOW_S + 30);
    expect(c.get(`a.b.${TAIL}`)).toEqual({ n: 1 });
    expect(c.get(`a.c.${TAIL}`)).toBeUndefined();
    expect(c.get(`a.b.${TAIL}`)).toEqual({ n: 1 });
  });

  it('holds tokens shorter than the tail too', () => {
    const c = cache();
    c.set('a.b.c', { n: 2 }, NOW_S + 30);
    expect(c.get('a.b.c')).toEqual({ n: 2 });
    expect(c.get('a.b.d')).toBeUndefined();
  });

  it.each([
    ['exp comes first', NOW_S + 10, 60, 10],
    ['maxTtl comes first', NOW_S + 3600, 60, 60],
  ])('keeps an entry until min(exp, now + maxTtl): %s', (_name, exp, maxTtl, lifetime) => {
    let now = NOW_S * 1000;
    const c = new TokenCache<{ n: number }>({ max: 10, maxTtlSeconds: maxTtl, now: () => now });
    c.set('x.y.z', { n: 3 }, exp);
    now += lifetime * 1000 - 1;
    expect(c.get('x.y.z')).toEqual({ n: 3 });
    now += 1;
    expect(c.get('x.y.z')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('never stores an already expired token', () => {
    const c = cache();
    c.set('x.y.z', { n: 4 }, NOW_S);
    expect(c.size).toBe(0);
  });
});

describe('bearer tokens for the cache', () => {
  it('hands over a padded header’s token as a string of its own, equal to the token', () => {
    const token = `a.b.${TAIL}`;
    const [source] = bearerTokens(new Map([['authorization', `Bearer ${token}${' '.repeat(100)}`]]), undefined);
    expect(source).toEqual({ header: 'authorization', token, jwsShaped: true });
  });

  it('marks a token that is not three base64url parts, so decoding checks it in full', () => {
    const [source] = bearerTokens(new Map([['authorization', 'Bearer a.b~.c']]), undefined);
    expect(source).toMatchObject({ token: 'a.b~.c', jwsShaped: false });
  });
});
