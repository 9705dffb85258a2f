import { describe, expect, it } from 'vitest';
import { DecisionCache } from '../../src/authz/decision-cache.js';
import type { Evaluation } from '../../src/policy/evaluation.js';

// lru-cache treats a start time of 0 as "no ttl", so the test clock starts later.
const START = 10_000;
const ALLOW: Evaluation = { effect: 'allow', reason: 'policy_allow', by: { policy: 'p', rule: 0 } };

function cacheAt(clock: { t: number }, ttlMs = 1000) {
  return new DecisionCache({ max: 2, ttlMs, now: () => clock.t });
}

describe('DecisionCache', () => {
  it('returns what was stored and counts hits and misses', () => {
    const cache = cacheAt({ t: 0 });
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', ALLOW);
    expect(cache.get('k')).toBe(ALLOW);
    expect(cache.stats).toEqual({ hits: 1, misses: 1, entries: 1 });
  });

  it('forgets an entry once its ttl has passed', () => {
    const clock = { t: START };
    const cache = cacheAt(clock, 1000);
    cache.set('k', ALLOW);
    clock.t = START + 999;
    expect(cache.get('k')).toBe(ALLOW);
    clock.t = START + 1001;
    expect(cache.get('k')).toBeUndefined();
  });

  it('never keeps an entry longer than the credential it rests on', () => {
    const clock = { t: START };
    const cache = cacheAt(clock, 60_000);
    cache.set('k', ALLOW, 50);
    clock.t = START + 51;
    expect(cache.get('k')).toBeUndefined();
  });

  it('does not store an entry whose credential has already expired', () => {
    const cache = cacheAt({ t: 0 });
    cache.set('k', ALLOW, 0);
    cache.set('j', ALLOW, -5);
    expect(cache.stats.entries).toBe(0);
  });

  it('is bounded by max entries, evicting the least recently used', () => {
    const cache = cacheAt({ t: 0 });
    cache.set('a', ALLOW);
    cache.set('b', ALLOW);
    cache.get('a');
    cache.set('c', ALLOW);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(ALLOW);
    expect(cache.stats.entries).toBe(2);
  });

  it.each([
    [{ max: 0, ttlMs: 1 }, /max/],
    [{ max: 1.5, ttlMs: 1 }, /max/],
    [{ max: 10, ttlMs: 0 }, /ttl/],
  ])('refuses the unbounded or meaningless options %j', (options, message) => {
    expect(() => new DecisionCache(options)).toThrow(message);
  });
});
