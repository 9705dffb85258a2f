/**
 * Successful verifications, kept until min(credential expiry, now + maxTtl) on the injected
 * clock and bounded by entry count. Failures are never cached: a bad token costs its
 * verification every time, which is why cheap checks (size, shape, alg) run before any crypto.
 * Reloads of trust material clear both caches.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

interface CacheOptions {
  readonly max: number;
  readonly maxTtlSeconds: number;
  readonly now: () => number;
}

interface Entry<V> {
  readonly value: V;
  /** Epoch milliseconds. */
  readonly until: number;
}

/** Certificates, keyed by a SHA-256 of what was verified (keyOf). */
export class VerificationCache<V extends object> {
  readonly #lru: LRUCache<string, Entry<V>>;
  readonly #now: () => number;
  readonly #maxTtlMs: number;

  constructor(options: CacheOptions) {
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
    const until = untilOf(expiresAt, this.#now(), this.#maxTtlMs);
    if (until !== undefined) this.#lru.set(key, { value, until });
  }

  clear(): void {
    this.#lru.clear();
  }
}

/**
 * Bearer tokens. A hit must cost well under a microsecond, and hashing is what costs: a
 * SHA-256 of an 800-byte token takes about 1 µs, and so does V8's own hash of a fresh 800-char
 * string used as a Map key. So the map is keyed by the token's last TAIL characters (the end of
 * its signature) and a hit is confirmed by comparing the whole token, a memcmp. A token that
 * shares the tail of a cached one is a plain miss; only a verified token is ever stored.
 *
 * Memory: at most `max` entries, each holding a token of at most `maxTokenBytes` ASCII
 * characters, plus at most 23 bytes of the header it was cut from (bearer-tokens.ts copies a
 * token out of a longer header), so about max × maxTokenBytes bytes in all: 10,000 × 16 KiB =
 * 160 MiB with the defaults if every cached token were maximal, 10 MiB for typical 1 KiB tokens.
 */
export class TokenCache<V extends object> {
  /** Expiry and bounds as for certificates; the entry keeps the whole token to confirm a hit. */
  readonly #byTail: VerificationCache<{ readonly token: string; readonly value: V }>;

  constructor(options: CacheOptions) {
    this.#byTail = new VerificationCache(options);
  }

  get size(): number {
    return this.#byTail.size;
  }

  get(token: string): V | undefined {
    const entry = this.#byTail.get(tailOf(token));
    return entry !== undefined && entry.token === token ? entry.value : undefined;
  }

  /** `expiresAt` in epoch seconds: the token's own `exp`. */
  set(token: string, value: V, expiresAt: number): void {
    this.#byTail.set(tailOf(token), { token, value }, expiresAt);
  }

  clear(): void {
    this.#byTail.clear();
  }
}

/** 32 base64url characters: 192 bits of signature. */
const TAIL = 32;

function tailOf(token: string): string {
  return token.length <= TAIL ? token : token.slice(token.length - TAIL);
}

function untilOf(expiresAtSeconds: number, now: number, maxTtlMs: number): number | undefined {
  const until = Math.min(expiresAtSeconds * 1000, now + maxTtlMs);
  return until > now ? until : undefined;
}
