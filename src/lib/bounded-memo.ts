/**
 * Values made from a text, remembered: Envoy sends the same few principals over and over, and
 * parsing one costs more than the rest of a cached decision. Bounded and least recently used
 * first out, so a flood of distinct texts costs what it would without the memo, never memory,
 * and the callers in use stay. Only values that were made are kept: a `make` that throws
 * leaves nothing behind. Whoever builds the memo's user builds the memo, sized by config.
 */
import { LRUCache } from 'lru-cache';

/** What a memo holds when nothing better is configured: far more principals than a mesh has. */
export const DEFAULT_MEMO_SIZE = 4096;

export class BoundedMemo<V extends NonNullable<unknown>> {
  readonly #entries: LRUCache<string, V>;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`BoundedMemo: max must be a positive integer, not ${max}`);
    this.#entries = new LRUCache<string, V>({ max });
  }

  /** The value remembered for `key`, or `make(key)` remembered (it may throw: nothing is kept). */
  get(key: string, make: (key: string) => V): V {
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const made = make(key);
    this.#entries.set(key, made);
    return made;
  }

  /** Whether `key` is remembered; asking does not make it recently used. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
