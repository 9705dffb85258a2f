/**
 * What grpc-js does not do on its own for every call, as one server interceptor that runs
 * when a call's headers arrive, before its body is read: transport admission (a refused
 * client's calls end PERMISSION_DENIED before any handler runs), the server's deadline cap
 * (grpc-js enforces a client's `grpc-timeout`, but bounds nothing itself: a client without one,
 * or one sending half a body, would hold its stream forever), and a bound on answers never
 * taken: a client that keeps its flow window shut holds an answered stream, and its
 * connection, forever. grpc-js cannot reset one stream from here, so past the cap the client's
 * connection is cut.
 */
import { ServerInterceptingCall, status, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';

export interface CallGuardOptions {
  /** Upper bound of any call's deadline, and how long a call without one may wait for its first message. */
  readonly deadlineMs: number;
  /** Whether the call's client may call anything; absent: every client. */
  readonly admits?: (call: ServerInterceptingCallInterface) => boolean;
  /** Answers still not taken by their client past the cap: told once each (to cut the connection). */
  readonly untaken: UntakenAnswers;
}

export function callGuard({ deadlineMs, admits, untaken }: CallGuardOptions): ServerInterceptor {
  return (method, next) =>
    admits !== undefined && !admits(next) ? refused(next) : capped(next, deadlineMs, method.responseStream ? undefined : untaken);
}

/**
 * Calls answered but whose stream is not over yet, each due by the cap after its answer; a
 * sweep a few times a second tells `onUntaken` of those still there. One timer for the
 * server, as the native transport's deadlines: an answered call only adds and deletes.
 */
export class UntakenAnswers {
  readonly #due = new Map<ServerInterceptingCallInterface, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly capMs: number,
    onUntaken: (call: ServerInterceptingCallInterface) => void,
    sweepEveryMs = 250,
  ) {
    this.#timer = setInterval(() => {
      const now = performance.now();
      for (const [call, dueAt] of this.#due) {
        if (now < dueAt) continue;
        this.#due.delete(call);
        onUntaken(call);
      }
    }, sweepEveryMs);
    this.#timer.unref();
  }

  answered(call: ServerInterceptingCallInterface): void {
    this.#due.set(call, performance.now() + this.capMs);
  }

  over(call: ServerInterceptingCallInterface): void {
    this.#due.delete(call);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#due.clear();
  }
}

/** Ends the call PERMISSION_DENIED as its headers arrive; the handler never hears of it. */
function refused(next: ServerInterceptingCallInterface): ServerInterceptingCall {
  const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
    start: (proceed) =>
      proceed({
        onReceiveMetadata: () => call.sendStatus({ code: status.PERMISSION_DENIED, details: 'client identity is not allowed on this listener' }),
      }),
  });
  return call;
}

/**
 * With a client deadline under the cap, grpc-js' own timer ends the call and nothing is added.
 * Otherwise the call must end by the cap, or, without any client deadline, begin answering by
 * it: a Health Watch then stays open as long as its client wants, as on the native transport.
 */
/** `untaken`: for a unary call, whose one answer must be taken by the cap (a stream may stay open by design). */
function capped(next: ServerInterceptingCallInterface, capMs: number, untaken: UntakenAnswers | undefined): ServerInterceptingCall {
  const deadline = next.getDeadline();
  const remainingMs = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
  // With a client deadline under the cap, grpc-js' own timer ends the call.
  const timed = remainingMs > capMs;
  const untilAnswered = remainingMs === Infinity;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
    start: (proceed) => {
      if (timed) {
        timer = setTimeout(() => call.sendStatus({ code: status.DEADLINE_EXCEEDED, details: 'deadline exceeded' }), capMs);
        timer.unref();
      }
      // grpc-js tells onCancel once the stream is over, however it ended
      proceed({
        onCancel: () => {
          stop();
          untaken?.over(next);
        },
      });
    },
    // A unary answer is written here; its status follows only once the client has taken it.
    sendMessage: (message, proceed) => {
      if (untilAnswered) stop();
      untaken?.answered(next);
      proceed(message);
    },
    sendStatus: (final, proceed) => {
      stop();
      untaken?.answered(next);
      proceed(final);
    },
  });
  return call;
}
