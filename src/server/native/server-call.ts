/**
 * One gRPC call on one HTTP/2 stream, from the handler's side: answer once (unary), or send
 * messages then a status (server streaming). Nothing here may throw into the server: a
 * stream the client reset or closed (RST_STREAM of any code, a session torn down) is ended
 * quietly, and every write that node:http2 could still refuse is guarded.
 */
import http2 from 'node:http2';
import type { GrpcCall } from '../grpc/grpc-call.js';
import { encodeStatusMessage, GrpcStatus, type GrpcStatusCode } from '../grpc/grpc-status.js';
import { ACCEPTED_ENCODINGS } from './request-message.js';

const RESPONSE_HEADERS = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc',
  'grpc-accept-encoding': ACCEPTED_ENCODINGS,
});
const OK_TRAILERS = Object.freeze({ 'grpc-status': String(GrpcStatus.OK) });
const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL } = http2.constants;

/** The call a stream carries: lets one shared listener per event serve every call (no closure per call). */
const CALL = Symbol('meshwarden.serverCall');
type CallStream = http2.ServerHttp2Stream & { [CALL]?: ServerCall };

export class ServerCall implements GrpcCall {
  readonly #stream: CallStream;
  readonly #requestHeaders: http2.IncomingHttpHeaders;
  #headersSent = false;
  /** The answer went as headers that end the stream (a failure before anything was sent). */
  #trailersOnly = false;
  #ended = false;
  #trailers: http2.OutgoingHttpHeaders = OK_TRAILERS;
  /** A Check still reading registers one (its body's release); streaming calls may add more. */
  #closeHandlers: (() => void) | Array<() => void> | undefined;

  // 'close' and 'wantTrailers' are emitted once per stream: plain listeners, shared by every call.
  static readonly #onStreamClose = function (this: CallStream): void {
    const call = this[CALL];
    if (call !== undefined) call.#closed();
  };

  static readonly #onWantTrailers = function (this: CallStream): void {
    const call = this[CALL];
    if (call !== undefined) call.#sendTrailers();
  };

  constructor(stream: http2.ServerHttp2Stream, requestHeaders: http2.IncomingHttpHeaders) {
    this.#stream = stream;
    this.#requestHeaders = requestHeaders;
    this.#stream[CALL] = this;
    stream.on('close', ServerCall.#onStreamClose);
  }

  #closed(): void {
    this.#ended = true;
    const handlers = this.#closeHandlers;
    this.#closeHandlers = undefined;
    if (typeof handlers === 'function') handlers();
    else if (handlers !== undefined) for (const handler of handlers) handler();
  }

  header(name: string): string | undefined {
    const value = this.#requestHeaders[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** True once the stream is closed at both ends: nothing of this call is held any more. */
  get closed(): boolean {
    return this.#stream.closed || this.#stream.destroyed;
  }

  /**
   * Resets a stream whose answer was written but never taken (a client that keeps its flow
   * window shut): the answer is dropped, and so is the stream the client was holding.
   */
  abandon(): void {
    if (!this.closed) this.#guarded(() => this.#stream.close(NGHTTP2_CANCEL));
  }

  /** True once the call has a final status or the stream can no longer be written. */
  get ended(): boolean {
    return this.#ended || this.#stream.closed || this.#stream.destroyed;
  }

  onClose(handler: () => void): void {
    if (this.#stream.closed || this.#stream.destroyed) handler();
    else if (this.#closeHandlers === undefined) this.#closeHandlers = handler;
    else if (typeof this.#closeHandlers === 'function') this.#closeHandlers = [this.#closeHandlers, handler];
    else this.#closeHandlers.push(handler);
  }

  reply(message: Uint8Array): void {
    if (this.ended) return;
    this.#ended = true;
    try {
      // #guarded, inlined: this runs once per Check
      this.#sendHeaders();
      this.#stream.end(frame(message));
    } catch {
      this.#writeFailed();
    }
  }

  send(message: Uint8Array): void {
    if (this.ended) return;
    this.#guarded(() => {
      this.#sendHeaders();
      this.#stream.write(frame(message));
    });
  }

  fail(code: GrpcStatusCode, message: string): void {
    if (this.ended) return;
    this.#ended = true;
    const status = { 'grpc-status': String(code), 'grpc-message': encodeStatusMessage(message) };
    this.#guarded(() => {
      if (!this.#headersSent) {
        this.#headersSent = true;
        this.#trailersOnly = true;
        this.#stream.respond({ ...RESPONSE_HEADERS, ...status }, { endStream: true });
        return;
      }
      this.#trailers = status;
      this.#stream.end();
    });
  }

  /**
   * Fails the call, then resets the stream so the client stops sending and whatever the
   * call had buffered can be dropped: for a refused or late request still arriving.
   */
  failAndReset(code: GrpcStatusCode, message: string): void {
    this.#answerThenReset(() => this.fail(code, message));
  }

  /**
   * Answers the call, then resets the stream if the client is still sending: for a Check
   * refused before its request was read (answered, not failed: see GrpcMethodHandler).
   */
  replyAndReset(message: Uint8Array): void {
    this.#answerThenReset(() => this.reply(message));
  }

  /**
   * After trailers-only headers the reset may follow at once; after a written answer it must
   * wait for the trailers, or node:http2 drops them. A client done sending needs no reset.
   */
  #answerThenReset(answer: () => void): void {
    const stillSending = !this.#stream.readableEnded;
    answer();
    if (!stillSending) return;
    if (this.#trailersOnly) this.#reset();
    else this.#resetAfterTrailers = true;
  }

  #resetAfterTrailers = false;

  /** RST_STREAM: NO_ERROR after a complete answer (HTTP/2's "stop sending"), CANCEL before one. */
  #reset(): void {
    const stream = this.#stream;
    if (stream.destroyed) return;
    this.#guarded(() => stream.close(this.#ended ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL));
  }

  #sendHeaders(): void {
    if (this.#headersSent) return;
    this.#headersSent = true;
    this.#stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    this.#stream.on('wantTrailers', ServerCall.#onWantTrailers);
  }

  #sendTrailers(): void {
    try {
      this.#stream.sendTrailers(this.#trailers);
      // a reset in the same tick can overtake the trailers still queued in node:http2
      if (this.#resetAfterTrailers) setImmediate(() => this.#reset());
    } catch {
      this.#writeFailed();
    }
  }

  /**
   * node:http2 throws when a stream closed between our check and the write (a reset that
   * arrived in the same read, a session being destroyed): the client is gone, the call is over.
   */
  #guarded(write: () => void): void {
    try {
      write();
    } catch {
      this.#writeFailed();
    }
  }

  #writeFailed(): void {
    this.#ended = true;
    if (!this.#stream.destroyed) this.#stream.destroy();
  }
}

const WAIT_FOR_TRAILERS: http2.ServerStreamResponseOptions = Object.freeze({ waitForTrailers: true });

/** The 5-byte gRPC prefix (uncompressed) and the message. */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}
