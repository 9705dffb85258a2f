/**
 * Parsed peer principals, remembered: Envoy sends the same few principals over and over,
 * and parsing one costs more than the rest of a cached decision. Bounded: when full it
 * starts over (a mesh has far fewer callers than the cap; a flood of distinct principals
 * costs what it did without the memo, never memory). Only successful parses are kept.
 */
export class PrincipalMemo<T> {
  readonly #entries = new Map<string, T>();
  readonly #max: number;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('PrincipalMemo: max must be a positive integer');
    this.#max = max;
  }

  /** The value remembered for `principal`, or `make(principal)` (which may throw: nothing is kept). */
  get(principal: string, make: (principal: string) => T): T {
    const hit = this.#entries.get(principal);
    if (hit !== undefined) return hit;
    const made = make(principal);
    if (this.#entries.size >= this.#max) this.#entries.clear();
    this.#entries.set(principal, made);
    return made;
  }
}
