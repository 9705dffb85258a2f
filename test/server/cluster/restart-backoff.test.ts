import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../../../src/server/cluster/restart-backoff.js';

const options = { baseMs: 100, maxMs: 1_000, stableMs: 5_000 };

describe('RestartBackoff', () => {
  it('doubles the delay while the worker keeps crashing, up to the maximum', () => {
    const backoff = new RestartBackoff(options);
    expect([10, 10, 10, 10, 10, 10].map((uptime) => backoff.next(uptime))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('starts again from the base once a worker ran for the stable time', () => {
    const backoff = new RestartBackoff(options);
    backoff.next(10);
    backoff.next(10);
    expect(backoff.next(5_000)).toBe(100);
    expect(backoff.next(10)).toBe(200);
  });

  it.each([
    { baseMs: 0, maxMs: 10, stableMs: 1 },
    { baseMs: 10, maxMs: 5, stableMs: 1 },
    { baseMs: 10, maxMs: 50, stableMs: -1 },
    { baseMs: Number.NaN, maxMs: 50, stableMs: 1 },
  ])('refuses %o with a TypeError', (bad) => {
    expect(() => new RestartBackoff(bad)).toThrow(TypeError);
  });
});
