/**
 * What grpc-js does not do on its own for every call, as one server interceptor that runs
 * when a call's headers arrive, before its body is read: transport admission (a refused
 * client's calls end PERMISSION_DENIED before any handler runs) and the server's deadline cap
 * (grpc-js enforces a client's `grpc-timeout`, but bounds nothing itself: a client without one,
 * or one sending half a body, would hold its stream forever).
 */
import { ServerInterceptingCall, status, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';

export interface CallGuardOptions {
  /** Upper bound of any call's deadline, and how long a call without one may wait for its first message. */
  readonly deadlineMs: number;
  /** Whether the call's client may call anything; absent: every client. */
  readonly admits?: (call: ServerInterceptingCallInterface) => boolean;
}

export function callGuard({ deadlineMs, admits }: CallGuardOptions): ServerInterceptor {
  return (_method, next) => (admits !== undefined && !admits(next) ? refused(next) : capped(next, deadlineMs));
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
function capped(next: ServerInterceptingCallInterface, capMs: number): ServerInterceptingCall {
  const deadline = next.getDeadline();
  const remainingMs = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
  if (remainingMs <= capMs) return new ServerInterceptingCall(next);
  const untilAnswered = remainingMs === Infinity;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
    start: (proceed) => {
      timer = setTimeout(() => call.sendStatus({ code: status.DEADLINE_EXCEEDED, details: 'deadline exceeded' }), capMs);
      timer.unref();
      // grpc-js tells onCancel once the stream is over, however it ended
      proceed({ onCancel: stop });
    },
    sendMessage: (message, proceed) => {
      if (untilAnswered) stop();
      proceed(message);
    },
    sendStatus: (final, proceed) => {
      stop();
      proceed(final);
    },
  });
  return call;
}
