/**
 * Calls still waiting for the rest of their request body. A client that never finishes its
 * body (or sends it a byte at a time) must not hold a stream forever: each call gets until
 * its deadline (`grpc-timeout`), or BODY_TIMEOUT_MS without one, and a sweep a few times a
 * second ends the late ones with DEADLINE_EXCEEDED. One timer for the server, not one per
 * call: Envoy's bodies arrive with their headers, and the hot path only adds and deletes.
 */
import { GrpcStatus } from './grpc-status.js';
import type { ServerCall } from './server-call.js';

export const BODY_TIMEOUT_MS = 30_000;
const SWEEP_EVERY_MS = 250;

export class UnfinishedBodies {
  /** Call → when its body must have ended (performance.now() milliseconds). */
  readonly #due = new Map<ServerCall, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(sweepEveryMs = SWEEP_EVERY_MS) {
    this.#timer = setInterval(() => this.#sweep(), sweepEveryMs);
    this.#timer.unref();
  }

  add(call: ServerCall, dueAt: number): void {
    this.#due.set(call, dueAt);
  }

  delete(call: ServerCall): void {
    this.#due.delete(call);
  }

  get size(): number {
    return this.#due.size;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #sweep(): void {
    const now = performance.now();
    for (const [call, dueAt] of this.#due) {
      // calls refused or reset while reading end without a body 'end': they leave here
      if (call.ended) this.#due.delete(call);
      else if (now >= dueAt) {
        this.#due.delete(call);
        call.fail(GrpcStatus.DEADLINE_EXCEEDED, 'the request body did not arrive before the deadline');
      }
    }
  }
}
