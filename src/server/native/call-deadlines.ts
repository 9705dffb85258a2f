/**
 * Calls that must end by a time: a request body still arriving (by the call's
 * `grpc-timeout`, or BODY_TIMEOUT_MS without one), and an answer still being worked out (by
 * the `grpc-timeout`). A sweep a few times a second ends the late ones with
 * DEADLINE_EXCEEDED, so a client sending half a body cannot hold a stream forever and a
 * handler's late answer is dropped. One timer for the server, not one per call: Envoy's
 * bodies arrive with their headers and most answers are synchronous, so the hot path only
 * adds and deletes.
 */
import { GrpcStatus } from '../grpc/grpc-status.js';
import type { ServerCall } from './server-call.js';

export const BODY_TIMEOUT_MS = 30_000;
const SWEEP_EVERY_MS = 250;

export class CallDeadlines {
  /** Call → when it must have ended (performance.now() milliseconds). */
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

  close(): void {
    clearInterval(this.#timer);
  }

  #sweep(): void {
    const now = performance.now();
    for (const [call, dueAt] of this.#due) {
      // answered, refused or reset since it was added: nothing left to end
      if (call.ended) this.#due.delete(call);
      else if (now >= dueAt) {
        this.#due.delete(call);
        call.fail(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded');
      }
    }
  }
}
