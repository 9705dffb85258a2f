/**
 * The one request message of a unary or server-streaming call, out of the HTTP/2 request
 * body: the gRPC length-prefixed framing (1 flag byte, 4 bytes big-endian length), the
 * compressed flag with the `grpc-encoding` the client declared, and the size limit, which
 * is enforced while the body arrives, not after it has been buffered. Every buffered byte
 * is also counted against one server-wide budget, so many half-sent bodies together cannot
 * hold more memory than the operator allowed.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { BufferBudget } from '../grpc/buffer-budget.js';
import { GrpcCallError, GrpcStatus } from '../grpc/grpc-status.js';

const PREFIX_BYTES = 5;

/** What we accept and say we accept (`grpc-accept-encoding`). */
export const ACCEPTED_ENCODINGS = 'identity,gzip,deflate';

export type MessageEncoding = 'identity' | 'gzip' | 'deflate';

/** The `grpc-encoding` request header, or a GrpcCallError (UNIMPLEMENTED) naming what is accepted. */
export function messageEncodingOf(header: string | string[] | undefined): MessageEncoding {
  if (header === undefined || header === 'identity' || header === 'gzip' || header === 'deflate') return header ?? 'identity';
  throw new GrpcCallError(GrpcStatus.UNIMPLEMENTED, `grpc-encoding ${String(header)} is not supported; use one of ${ACCEPTED_ENCODINGS}`);
}

const UNBOUNDED = new BufferBudget(Number.MAX_SAFE_INTEGER);

/** Collects body chunks; refuses, as soon as it knows, a body that cannot hold one message within the limits. */
export class RequestBody {
  readonly #maxMessageBytes: number;
  readonly #budget: BufferBudget;
  #chunks: Buffer[] = [];
  #bytes = 0;

  constructor(maxMessageBytes: number, budget: BufferBudget = UNBOUNDED) {
    this.#maxMessageBytes = maxMessageBytes;
    this.#budget = budget;
  }

  /** Throws GrpcCallError (RESOURCE_EXHAUSTED) once the body is larger than one message may be, or the server's budget is spent. */
  push(chunk: Buffer): void {
    if (this.#bytes + chunk.length > this.#maxMessageBytes + PREFIX_BYTES) throw tooLarge(this.#maxMessageBytes);
    if (!this.#budget.reserve(chunk.length)) throw new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, 'the server is buffering too many requests; retry');
    this.#bytes += chunk.length;
    this.#chunks.push(chunk);
  }

  /** Drops what was buffered and gives its bytes back to the budget; idempotent. */
  discard(): void {
    this.#budget.release(this.#bytes);
    this.#bytes = 0;
    this.#chunks = [];
  }

  /**
   * The single message the body holds, decompressed; throws GrpcCallError when it holds
   * anything else. The body leaves the budget here: from now on it is the handler's.
   */
  message(encoding: MessageEncoding): Buffer {
    // Envoy sends a Check in one DATA frame: the common case needs no copy.
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#bytes);
    this.discard();
    if (body.length < PREFIX_BYTES) throw protocolError(body.length === 0 ? 'the request has no message' : 'the request message is truncated');
    const length = body.readUInt32BE(1);
    if (length > this.#maxMessageBytes) throw tooLarge(this.#maxMessageBytes);
    if (body.length < PREFIX_BYTES + length) throw protocolError('the request message is truncated');
    if (body.length > PREFIX_BYTES + length) throw protocolError('a unary call carries exactly one request message');
    const payload = body.subarray(PREFIX_BYTES);
    switch (body[0]) {
      case 0:
        return payload;
      case 1:
        return this.#decompressed(payload, encoding);
      default:
        throw protocolError(`unknown message flags ${body[0]}`);
    }
  }

  #decompressed(payload: Buffer, encoding: MessageEncoding): Buffer {
    if (encoding === 'identity') throw protocolError('a compressed message without grpc-encoding');
    const options = { maxOutputLength: this.#maxMessageBytes };
    try {
      return encoding === 'gzip' ? gunzipSync(payload, options) : inflateSync(payload, options);
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(this.#maxMessageBytes);
      throw protocolError(`the message does not decompress as ${encoding}`);
    }
  }
}

function tooLarge(max: number): GrpcCallError {
  return new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, `the request message is larger than ${max} bytes`);
}

function protocolError(message: string): GrpcCallError {
  return new GrpcCallError(GrpcStatus.INTERNAL, message);
}
