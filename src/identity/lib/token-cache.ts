/**
 * Successful verifications, kept until min(credential expiry, now + maxTtl) on the injected
 * clock and bounded by entry count. Failures are never cached: a bad token costs its
 * verification every time, which is why cheap checks (size, shape, alg) run before any crypto.
 *
 * Bearer tokens are keyed by the token string itself: a hit is one Map lookup, where a SHA-256
 * of the token alone would cost about as much as the whole hit. Memory stays bounded: only
 * tokens that verified get in, each at most `maxTokenBytes` long (one byte per character, as
 * tokens are ASCII), so the keys hold at most `max × maxTokenBytes` bytes (10,000 × 16 KiB with
 * the defaults, about 160 MiB in the worst case of maximal tokens; 10,000 typical 1 KiB tokens
 * take 10 MiB). Certificates, larger and verified less often, are keyed by a SHA-256 (keyOf).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

interface Entry<V> {
  readonly value: V;
  /** Epoch milliseconds. */
  readonly until: number;
}

export class VerificationCache<V extends object> {
  readonly #lru: LRUCache<string, Entry<V>>;
  readonly #now: () => number;
  readonly #maxTtlMs: number;

  constructor(options: { max: number; maxTtlSeconds: number; now: () => number }) {
    this.#lru = new LRUCache({ max: options.max });
    this.#now = options.now;
    this.#maxTtlMs = options.maxTtlSeconds * 1000;
  }

  static keyOf(namespace: string, credential: string): string {
    return namespace + createHash('sha256').update(credential).digest('base64url');
  }

  get size(): number {
    return this.#lru.size;
  }

  get(key: string): V | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() >= entry.until) {
      this.#lru.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** `expiresAt` in epoch seconds: the credential's own end of validity. */
  set(key: string, value: V, expiresAt: number): void {
    const now = this.#now();
    const until = Math.min(expiresAt * 1000, now + this.#maxTtlMs);
    if (until > now) this.#lru.set(key, { value, until });
  }

  clear(): void {
    this.#lru.clear();
  }
}

/**
 * A flat copy of an ASCII string: a token cut out of a header is a slice that keeps the whole
 * header alive, and a cache key must cost only its own length.
 */
export function ownCopy(ascii: string): string {
  return Buffer.from(ascii, 'latin1').toString('latin1');
}
