import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GrpcCallError, GrpcStatus } from '../../../src/server/grpc/grpc-status.js';
import { messageEncodingOf, RequestBody, type MessageEncoding } from '../../../src/server/native/request-message.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';

const LIMIT = 1024;
const ENCODINGS = fc.constantFrom<MessageEncoding>('identity', 'gzip', 'deflate');
const PROTOCOL_STATUSES: number[] = [GrpcStatus.INTERNAL, GrpcStatus.RESOURCE_EXHAUSTED];

/** Feeds `body` in the given chunk sizes, then reads the message; returns it or the GrpcCallError. */
function read(body: Buffer, cuts: number[], encoding: MessageEncoding = 'identity'): Buffer | GrpcCallError {
  const request = new RequestBody(LIMIT);
  try {
    let at = 0;
    for (const cut of [...cuts.filter((c) => c > 0 && c < body.length)].sort((a, b) => a - b)) {
      request.push(body.subarray(at, cut));
      at = cut;
    }
    request.push(body.subarray(at));
    return request.message(encoding);
  } catch (error) {
    if (error instanceof GrpcCallError) return error;
    throw error;
  }
}

describe('RequestBody', () => {
  it('returns exactly the one message a well-framed body holds, however the body is cut into chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: LIMIT }), fc.array(fc.nat(LIMIT + 5)), (payload, cuts) => {
        expect(read(grpcFrame(payload), cuts)).toEqual(Buffer.from(payload));
      }),
      { numRuns: 2_000 },
    );
  });

  it('answers any body at all with a message or a gRPC status, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2 * LIMIT }), fc.array(fc.nat(2 * LIMIT)), ENCODINGS, (body, cuts, encoding) => {
        const outcome = read(Buffer.from(body), cuts, encoding);
        if (outcome instanceof GrpcCallError) expect(PROTOCOL_STATUSES).toContain(outcome.code);
        else expect(outcome.length).toBeLessThanOrEqual(LIMIT);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses a body over the limit while it arrives, before the rest is buffered', () => {
    const request = new RequestBody(LIMIT);
    request.push(Buffer.alloc(LIMIT + 5));
    expect(() => request.push(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: GrpcStatus.RESOURCE_EXHAUSTED }));
  });

  it('inflates gzip within the limit and refuses what inflates past it', () => {
    expect(read(grpcFrame(gzipSync(Buffer.from('hello')), 1), [], 'gzip')).toEqual(Buffer.from('hello'));
    expect(read(grpcFrame(gzipSync(Buffer.alloc(LIMIT + 1)), 1), [], 'gzip')).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
  });
});

describe('messageEncodingOf', () => {
  it.each([undefined, 'identity', 'gzip', 'deflate'])('accepts %s', (header) => {
    expect(messageEncodingOf(header)).toBe(header ?? 'identity');
  });

  it.each(['br', 'snappy', 'GZIP', ''])('refuses %j with UNIMPLEMENTED', (header) => {
    expect(() => messageEncodingOf(header)).toThrow(expect.objectContaining({ code: GrpcStatus.UNIMPLEMENTED }));
  });
});
