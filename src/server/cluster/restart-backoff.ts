/**
 * How long to wait before forking a replacement for a crashed worker: doubling from `baseMs`
 * up to `maxMs` while the worker keeps crashing, back to `baseMs` once one ran `stableMs`.
 * A worker that cannot start (a policy file broken on disk) then costs little CPU.
 */

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** A worker that ran this long before it exited was healthy: its crash starts a new series. */
  readonly stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 250, maxMs: 30_000, stableMs: 30_000 });

export class RestartBackoff {
  readonly #options: BackoffOptions;
  #crashesInARow = 0;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.baseMs > 0 && options.maxMs >= options.baseMs && options.stableMs >= 0)) {
      throw new TypeError('restart backoff needs 0 < baseMs <= maxMs and stableMs >= 0');
    }
    this.#options = options;
  }

  /** The delay before the next fork, for a worker that exited after running `uptimeMs`. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.#options.stableMs) this.#crashesInARow = 0;
    const delay = Math.min(this.#options.maxMs, this.#options.baseMs * 2 ** this.#crashesInARow);
    this.#crashesInARow += 1;
    return delay;
  }
}
