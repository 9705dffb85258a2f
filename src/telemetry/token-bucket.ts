/**
 * A token bucket with an injectable clock: `take()` is true while the average rate stays
 * under `ratePerSecond`, allowing bursts of up to `burst`. Used to cap log volume.
 */

export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /** `now` returns milliseconds; any monotonic-enough clock will do. */
  constructor(ratePerSecond: number, burst: number, now: () => number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = this.#now();
    // A clock that steps backwards refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
  }
}
