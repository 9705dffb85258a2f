import { describe, expect, it } from 'vitest';
import { durationMs } from '../../src/config/duration.js';

describe('durationMs', () => {
  it.each([
    [250, 250],
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ])('reads %j as %d milliseconds', (input, expected) => {
    expect(durationMs(input)).toBe(expected);
  });

  it.each(['10', '10 s', 's', '-1s', '1d'])('rejects %j', (input) => {
    expect(() => durationMs(input)).toThrow(/invalid duration/);
  });
});
