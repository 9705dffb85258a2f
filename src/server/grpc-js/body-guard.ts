/**
 * The two request-body rules grpc-js leaves to its host, as they hold on the native transport:
 *
 * - every request byte a call holds counts against the server-wide `bufferedBytes` budget,
 *   and a call whose bytes do not fit is refused and reads nothing more;
 * - a Check refused for its size (over `messageBytes`, or over the budget) is answered with a
 *   CheckResponse (400), never a gRPC error, because an Envoy with `failure_mode_allow: true`
 *   lets a gRPC error through.
 *
 * grpc-js reads a call's body and refuses an oversized message inside its base call, before
 * any interceptor or handler runs, so no public hook reaches either. This interceptor runs
 * first and takes the place of two of the base call's methods on that one call object:
 * `handleDataFrame` (each DATA chunk) and `sendStatus`, which grpc-js 1.14 calls through
 * `this`. `guardsFit` says whether the installed grpc-js still looks like that; the server
 * refuses to start on one that does not, rather than serve without the bounds (and the
 * grpc-js suites under test/ would fail first).
 */
import { Metadata, status, type ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import type { BufferBudget } from '../grpc/buffer-budget.js';
import type { GrpcMethodHandler } from '../grpc/grpc-call.js';
import type { MethodTable } from '../grpc/methods.js';

/** The parts of grpc-js' BaseServerInterceptingCall this guard relies on. */
interface BaseCall {
  handleDataFrame(data: Buffer): void;
  sendStatus(final: { code: number; details: string }): void;
  sendMetadata(metadata: Metadata): void;
  sendMessage(message: Uint8Array, callback: () => void): void;
  readonly stream: { once(event: 'close', listener: () => void): unknown };
}

export interface BodyGuardOptions {
  readonly budget: BufferBudget;
  readonly methods: MethodTable;
}

export function bodyGuard({ budget, methods }: BodyGuardOptions): ServerInterceptor {
  return (method, next) => {
    if (isBaseCall(next)) guard(next, budget, methods.get(method.path)?.answerRefusal);
    // the call itself, not a wrapper per call: grpc-js calls only the interface's methods on
    // what an interceptor returns, though its type names the class
    return next as ServerInterceptingCall;
  };
}

/** Whether the installed grpc-js' base call has the methods this guard takes the place of. */
export function guardsFit(): boolean {
  return isBaseCall(Object.assign(Object.create(BaseServerInterceptingCall.prototype) as object, { stream: { once: () => {} } }));
}

function isBaseCall(call: unknown): call is BaseCall {
  const base = call as Partial<BaseCall> | null;
  return (
    typeof base?.handleDataFrame === 'function' &&
    typeof base.sendStatus === 'function' &&
    typeof base.sendMetadata === 'function' &&
    typeof base.sendMessage === 'function' &&
    typeof base.stream?.once === 'function'
  );
}

function guard(base: BaseCall, budget: BufferBudget, answerRefusal: GrpcMethodHandler['answerRefusal']): void {
  const readChunk = base.handleDataFrame.bind(base);
  const endWith = base.sendStatus.bind(base);
  let held = 0;
  let refused = false;

  const refuse = (code: number, details: string) => {
    refused = true;
    if (answerRefusal === undefined) return endWith({ code, details });
    answerRefusal(code as Parameters<typeof answerRefusal>[0], details, (response) => {
      base.sendMetadata(new Metadata());
      base.sendMessage(response, () => {});
      endWith({ code: status.OK, details: '' });
    });
  };

  base.handleDataFrame = (data) => {
    if (refused) return; // nothing more is read, or held
    if (!budget.reserve(data.length)) return refuse(status.RESOURCE_EXHAUSTED, 'the server holds as many request bytes as it may; try again');
    held += data.length;
    readChunk(data);
  };
  // grpc-js' own refusal of a message over max_receive_message_length comes this way
  base.sendStatus = (final) => {
    if (refused) return;
    if (final.code === status.RESOURCE_EXHAUSTED) return refuse(final.code, final.details);
    endWith(final);
  };
  base.stream.once('close', () => {
    budget.release(held);
    held = 0;
  });
}
