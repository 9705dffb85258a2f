/**
 * One gRPC call on one HTTP/2 stream, from the handler's side: answer once (unary), or send
 * messages then a status (server streaming). Every way of answering is safe after the
 * client went away (a cancelled stream is simply not written to), and a call is answered
 * at most once.
 */
import http2 from 'node:http2';
import type { GrpcCall } from '../grpc/grpc-call.js';
import { ACCEPTED_ENCODINGS } from './request-message.js';
import { encodeStatusMessage, GrpcStatus, type GrpcStatusCode } from '../grpc/grpc-status.js';

const RESPONSE_HEADERS = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc',
  'grpc-accept-encoding': ACCEPTED_ENCODINGS,
});
const OK_TRAILERS = Object.freeze({ 'grpc-status': String(GrpcStatus.OK) });

export class ServerCall implements GrpcCall {
  readonly #stream: http2.ServerHttp2Stream;
  #headersSent = false;
  #ended = false;
  #trailers: http2.OutgoingHttpHeaders = OK_TRAILERS;
  /** Only streaming calls register any: no array for every unary Check. */
  #closeHandlers: Array<() => void> | undefined;

  constructor(stream: http2.ServerHttp2Stream) {
    this.#stream = stream;
    stream.once('close', () => {
      this.#ended = true;
      for (const handler of this.#closeHandlers ?? []) handler();
    });
  }

  /** True once the call has a final status or the client has gone. */
  get ended(): boolean {
    return this.#ended || this.#stream.destroyed;
  }

  /** Runs `handler` once the stream is closed, however the call ended: answered, failed, cancelled. */
  onClose(handler: () => void): void {
    (this.#closeHandlers ??= []).push(handler);
  }

  /** The unary answer: headers, the message, OK trailers. */
  reply(message: Uint8Array): void {
    if (this.ended) return;
    this.#ended = true;
    this.#sendHeaders();
    this.#stream.end(frame(message));
  }

  /** One message of a server stream. */
  send(message: Uint8Array): void {
    if (this.ended) return;
    this.#sendHeaders();
    this.#stream.write(frame(message));
  }

  /** Ends the call with a status: trailers-only when nothing was sent yet. */
  fail(code: GrpcStatusCode, message: string): void {
    if (this.ended) return;
    this.#ended = true;
    const status = { 'grpc-status': String(code), 'grpc-message': encodeStatusMessage(message) };
    if (!this.#headersSent) {
      this.#headersSent = true;
      this.#stream.respond({ ...RESPONSE_HEADERS, ...status }, { endStream: true });
      return;
    }
    this.#trailers = status;
    this.#stream.end();
  }

  #sendHeaders(): void {
    if (this.#headersSent) return;
    this.#headersSent = true;
    this.#stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    this.#stream.once('wantTrailers', () => this.#stream.sendTrailers(this.#trailers));
  }
}

/** The 5-byte gRPC prefix (uncompressed) and the message. */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}
