/**
 * Remembers policy evaluations so repeated requests skip the tree. Keys are built from
 * exactly the attributes the snapshot reads, prefixed with its generation, so a reload can
 * never serve a stale answer. Only policy outcomes are cached: identity failures and errors
 * never reach it, and an entry never outlives the credential it rests on.
 */
import { LRUCache } from 'lru-cache';
import type { Evaluation } from '../policy/index.js';

export interface DecisionCacheOptions {
  readonly max: number;
  readonly ttlMs: number;
  /** Clock in milliseconds (monotonic), injectable so tests never sleep. */
  readonly now?: () => number;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

export class DecisionCache {
  readonly #cache: LRUCache<string, Evaluation>;
  readonly #ttlMs: number;
  #hits = 0;
  #misses = 0;

  constructor(options: DecisionCacheOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new TypeError('decision cache: max must be a positive integer');
    }
    if (!(options.ttlMs > 0)) throw new TypeError('decision cache: ttl must be positive');
    this.#ttlMs = options.ttlMs;
    const now = options.now;
    this.#cache = new LRUCache<string, Evaluation>({
      max: options.max,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      // An injected clock is read on every call, so tests can step it within one tick.
      ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    });
  }

  get(key: string): Evaluation | undefined {
    const hit = this.#cache.get(key);
    if (hit === undefined) this.#misses++;
    else this.#hits++;
    return hit;
  }

  /** `maxTtlMs` shortens the entry's life, e.g. to the remaining life of a token. */
  set(key: string, evaluation: Evaluation, maxTtlMs?: number): void {
    const ttl = maxTtlMs === undefined ? this.#ttlMs : Math.min(this.#ttlMs, maxTtlMs);
    if (ttl <= 0) return;
    this.#cache.set(key, evaluation, { ttl });
  }

  clear(): void {
    this.#cache.clear();
  }

  get stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#cache.size };
  }
}
