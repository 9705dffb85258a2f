/**
 * The one request message of a unary or server-streaming call, out of the HTTP/2 request
 * body: the gRPC length-prefixed framing (1 flag byte, 4 bytes big-endian length), the
 * compressed flag with the `grpc-encoding` the client declared, and the size limit, which
 * is enforced while the body arrives, not after it has been buffered.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
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

/** Collects body chunks; refuses, as soon as it knows, a body that cannot hold one message within the limit. */
export class RequestBody {
  readonly #maxMessageBytes: number;
  readonly #chunks: Buffer[] = [];
  #bytes = 0;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Throws GrpcCallError (RESOURCE_EXHAUSTED) once the body is larger than one message may be. */
  push(chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxMessageBytes + PREFIX_BYTES) throw tooLarge(this.#maxMessageBytes);
    this.#chunks.push(chunk);
  }

  /** The single message the body holds, decompressed; throws GrpcCallError when it holds anything else. */
  message(encoding: MessageEncoding): Buffer {
    // Envoy sends a Check in one DATA frame: the common case needs no copy.
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#bytes);
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
