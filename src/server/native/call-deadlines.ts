/**
 * Calls that must end by a time: every call by its `grpc-timeout`, capped by the server's
 * deadline limit (which is also the deadline of a call without one). A sweep a few times a
 * second ends the late ones with DEADLINE_EXCEEDED and resets their streams, so a client
 * sending half a body cannot hold a stream, or the bytes it buffered, past the cap; a
 * handler's late answer is dropped. One timer for the server, not one per call: Envoy's
 * bodies arrive with their headers and most answers are synchronous, so the hot path only
 * adds and deletes.
 */
import { GrpcStatus } from '../grpc/grpc-status.js';
import type { ServerCall } from './server-call.js';

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
        call.failAndReset(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded');
      }
    }
  }
}
