/**
 * Streams that must be gone by a time: every call by its `grpc-timeout`, capped by the
 * server's deadline limit (which is also the deadline of a call without one). A sweep a few
 * times a second ends the late calls with DEADLINE_EXCEEDED and resets their streams, so a
 * client sending half a body cannot hold a stream, or the bytes it buffered, past the cap, and
 * a handler's late answer is dropped. A call stays here after it is answered, until its stream
 * closes: a client that never reads its answer (flow window kept shut) would otherwise hold
 * the stream, and its connection, forever; past the deadline such a stream is reset. One
 * timer for the server, not one per call: the hot path only adds, and the sweep forgets the
 * streams that closed.
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
      if (call.closed) this.#due.delete(call);
      else if (now >= dueAt) {
        this.#due.delete(call);
        if (call.ended) call.abandon();
        else call.failAndReset(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded');
      }
    }
  }
}
