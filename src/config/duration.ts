/** Durations in the config file: a number of milliseconds, or "250ms", "10s", "5m", "1h". */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Assumes the schema already checked the shape; returns milliseconds. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(value);
  if (match === null) throw new TypeError(`invalid duration "${value}"`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}
