/**
 * One server-wide bound on the request bytes that calls hold before their message is whole,
 * shared by both transports, so many half-sent bodies together cannot hold more memory than
 * the operator allowed (`grpc.limits.bufferedBytes`).
 */

export class BufferBudget {
  readonly #limit: number;
  #used = 0;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` from the budget, or takes nothing and returns false when they do not fit. */
  reserve(bytes: number): boolean {
    if (this.#used + bytes > this.#limit) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used -= bytes;
  }
}

