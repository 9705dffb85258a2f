/**
 * Runs a retry at a slow, growing interval (1 s, 2 s, 4 s … every minute) while something is
 * failing, and not at all once it is not. It never keeps the process alive.
 */
const FIRST_MS = 1_000;
const MAX_MS = 60_000;

export class RetryTimer {
  #timer: NodeJS.Timeout | undefined;
  #delayMs = FIRST_MS;

  constructor(private readonly retry: () => Promise<void>) {}

  /** Schedules the next retry, unless one is scheduled. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#delayMs = Math.min(this.#delayMs * 2, MAX_MS);
      void this.retry();
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** Nothing is failing: no retry, and the next failure starts from the shortest interval. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#delayMs = FIRST_MS;
  }
}
