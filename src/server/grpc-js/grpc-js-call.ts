/**
 * GrpcCall over grpc-js' server calls: a unary call answers through its callback, a
 * server-streaming call (Health/Watch) through its writable stream. grpc-js itself sends at
 * most one status; this adds what the handlers rely on: `ended` at once, `onClose` however
 * the call ends, and every method a no-op once the call is over.
 */
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type { GrpcCall, GrpcMethodHandler } from '../grpc/grpc-call.js';
import { GrpcStatus, type GrpcStatusCode } from '../grpc/grpc-status.js';

/** What both kinds of grpc-js call have: `cancelled`, and the 'cancelled' event. */
type SurfaceCall = ServerUnaryCall<Buffer, Uint8Array> | ServerWritableStream<Buffer, Uint8Array>;

abstract class GrpcJsCall implements GrpcCall {
  readonly #surface: SurfaceCall;
  #answered = false;
  #closed = false;
  /** Only streaming calls register any: no array for every unary Check. */
  #closeHandlers: Array<() => void> | undefined;

  constructor(surface: SurfaceCall) {
    this.#surface = surface;
    // grpc-js emits 'cancelled' once the stream is over, however it ended: our own status,
    // its deadline, a client cancel or reset, the connection torn down.
    surface.once('cancelled', () => this.#close());
  }

  get ended(): boolean {
    return this.#answered || this.#closed || this.#surface.cancelled;
  }

  onClose(handler: () => void): void {
    if (this.#closed) handler();
    else (this.#closeHandlers ??= []).push(handler);
  }

  reply(message: Uint8Array): void {
    if (this.#end()) this.answer(message);
  }

  send(message: Uint8Array): void {
    if (!this.ended) this.write(message);
  }

  fail(code: GrpcStatusCode, message: string): void {
    if (this.#end()) this.refuse(code, message);
  }

  header(name: string): string | undefined {
    const [value] = this.#surface.metadata.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  protected abstract answer(message: Uint8Array): void;
  protected abstract write(message: Uint8Array): void;
  protected abstract refuse(code: GrpcStatusCode, message: string): void;

  /** True when this call takes the final status (it was not over yet). */
  #end(): boolean {
    if (this.ended) return false;
    this.#answered = true;
    return true;
  }

  #close(): void {
    this.#closed = true;
    for (const handler of this.#closeHandlers ?? []) {
      try {
        handler();
      } catch {
        // a handler's clean-up never breaks the server
      }
    }
    this.#closeHandlers = undefined;
  }
}

export class UnaryGrpcJsCall extends GrpcJsCall {
  readonly #respond: sendUnaryData<Uint8Array>;

  constructor(surface: SurfaceCall, respond: sendUnaryData<Uint8Array>) {
    super(surface);
    this.#respond = respond;
  }

  protected answer(message: Uint8Array): void {
    this.#respond(null, message);
  }

  /** A unary call carries one message: sending it is answering. */
  protected write(message: Uint8Array): void {
    this.reply(message);
  }

  protected refuse(code: GrpcStatusCode, message: string): void {
    this.#respond({ code, details: message });
  }
}

export class StreamingGrpcJsCall extends GrpcJsCall {
  readonly #stream: ServerWritableStream<Buffer, Uint8Array>;

  constructor(stream: ServerWritableStream<Buffer, Uint8Array>) {
    super(stream);
    this.#stream = stream;
  }

  protected answer(message: Uint8Array): void {
    this.#stream.write(message);
    this.#stream.end();
  }

  protected write(message: Uint8Array): void {
    this.#stream.write(message);
  }

  /** grpc-js' own route to a status on a stream: its 'error' listener ends the call with it after what was written. */
  protected refuse(code: GrpcStatusCode, message: string): void {
    this.#stream.emit('error', { code, details: message });
  }
}

/** Runs a handler so that nothing it throws leaves it: the call ends INTERNAL instead. */
export function invoke(method: GrpcMethodHandler, request: Buffer, call: GrpcCall): void {
  try {
    method(request, call);
  } catch {
    call.fail(GrpcStatus.INTERNAL, 'the request could not be answered');
  }
}
