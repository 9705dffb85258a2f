/**
 * The gRPC protocol as the server speaks it on node:http2, seen from the wire: a raw HTTP/2
 * client sends what well-behaved and ill-behaved clients send, and reads headers, messages
 * and trailers as they arrive. (Well-behaved grpc-js clients are used everywhere else.)
 */
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { credentials, status } from '@grpc/grpc-js';
import type { Decision } from '../../../src/domain/index.js';
import { decodeCheckResponse, encodeCheckRequest, type CheckRequestMessage } from '../../../src/envoy/index.js';
import {
  CHECK_METHOD_PATH,
  GrpcStatus,
  HEALTH_CHECK_PATH,
  HEALTH_WATCH_PATH,
  startGrpcServer,
  type GrpcTransport,
  type RunningGrpcServer,
} from '../../../src/server/grpc/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy, type DecisionHandler } from '../../helpers/decided-by.js';
import { rawClient } from '../../helpers/check-client.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';

const ALLOW: Decision = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 };
const CHECK: CheckRequestMessage = { attributes: { request: { http: { method: 'GET', path: '/x', host: 'svc' } } } };
const HEALTH_REQUEST = Buffer.from([0x0a, 0x00]); // HealthCheckRequest { service: "" }

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveOn(transport: GrpcTransport, handler: DecisionHandler = () => ALLOW, maxReceiveMessageBytes?: number): Promise<RunningGrpcServer> {
  const running = await startGrpcServer({
    address: '127.0.0.1:0',
    transport,
    authorization: createAuthorizationService(decidedBy(handler)),
    initiallyServing: false,
    ...(maxReceiveMessageBytes === undefined ? {} : { limits: { messageBytes: maxReceiveMessageBytes } }),
  });
  cleanups.push(() => running.close(200));
  return running;
}

interface Exchange {
  readonly status: number | undefined;
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string | undefined;
  readonly messages: Buffer[];
}

/** One HTTP/2 request; resolves when the stream ends, with grpc-status from headers (trailers-only) or trailers. */
function exchange(server: RunningGrpcServer, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<Exchange> {
  const session = http2.connect(`http://${server.address}`);
  cleanups.push(() => void session.destroy());
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const result = { status: undefined as number | undefined, grpcStatus: undefined as number | undefined, grpcMessage: undefined as string | undefined, body: [] as Buffer[] };
    const readStatus = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) result.grpcStatus = Number(h['grpc-status']);
      if (h['grpc-message'] !== undefined) result.grpcMessage = decodeURIComponent(String(h['grpc-message']));
    };
    stream.on('response', (h) => {
      result.status = Number(h[':status']);
      readStatus(h);
    });
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => result.body.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve({ ...result, messages: messagesOf(Buffer.concat(result.body)) }));
    stream.end(body);
  });
}

function messagesOf(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    messages.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

const checkBytes = () => Buffer.from(encodeCheckRequest(CHECK));

// The transport's own refusals are seen on Health, which has no answer of its own for them: a
// refused Check is answered with a CheckResponse instead (the next describe).
describe.each(['native', 'grpc-js'] as const)('the gRPC server on %s', (transport) => {
  const serve = (handler?: DecisionHandler, maxReceiveMessageBytes?: number) => serveOn(transport, handler, maxReceiveMessageBytes);

  it('answers a Check with one CheckResponse message and grpc-status 0 in the trailers', async () => {
    const answer = await exchange(await serve(), CHECK_METHOD_PATH, grpcFrame(checkBytes()));
    expect(answer).toMatchObject({ status: 200, grpcStatus: GrpcStatus.OK });
    expect(answer.messages).toHaveLength(1);
    expect(decodeCheckResponse(answer.messages[0]!).status?.code ?? 0).toBe(0);
  });

  it('ends an unknown method with UNIMPLEMENTED, in a trailers-only response', async () => {
    const answer = await exchange(await serve(), '/envoy.service.auth.v2.Authorization/Check', grpcFrame(checkBytes()));
    expect(answer).toMatchObject({ status: 200, grpcStatus: GrpcStatus.UNIMPLEMENTED, messages: [] });
  });

  // grpc-js serves a GET with a gRPC content type as a call: the plain-HTTP answers are ours
  it.runIf(transport === 'native')('answers what is not gRPC in plain HTTP: 405 for GET, 415 for another content type', async () => {
    const server = await serve();
    const session = http2.connect(`http://${server.address}`);
    cleanups.push(() => void session.destroy());
    const statusOf = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<number>((resolve) => {
        const stream = session.request(headers);
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.resume();
        stream.end();
      });
    expect(await statusOf({ ':method': 'GET', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc' })).toBe(405);
    expect(await statusOf({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/json' })).toBe(415);
  });

  // grpc-js has its own codes for these (UNIMPLEMENTED for no or two messages) and reads unknown flags as uncompressed
  it.runIf(transport === 'native').each([
    ['no message', Buffer.alloc(0)],
    ['a truncated prefix', Buffer.from([0, 0, 0])],
    ['a truncated message', grpcFrame(Buffer.alloc(10)).subarray(0, 9)],
    ['two messages', Buffer.concat([grpcFrame(Buffer.alloc(0)), grpcFrame(Buffer.alloc(0))])],
    ['a compressed flag without grpc-encoding', grpcFrame(Buffer.alloc(3), 1)],
    ['unknown message flags', grpcFrame(Buffer.alloc(3), 4)],
  ])('ends a request with %s with INTERNAL, and keeps serving', async (_what, body) => {
    const server = await serve();
    expect((await exchange(server, HEALTH_CHECK_PATH, body)).grpcStatus).toBe(GrpcStatus.INTERNAL);
    expect((await exchange(server, HEALTH_CHECK_PATH, grpcFrame(HEALTH_REQUEST))).grpcStatus).toBe(GrpcStatus.OK);
  });

  it('refuses a message over the size limit with RESOURCE_EXHAUSTED, whether its prefix says so or its bytes do', async () => {
    const server = await serve(() => ALLOW, 1024);
    const lyingPrefix = Buffer.from([0, 0, 0, 0x10, 0]); // claims 4096 bytes, sends none
    expect((await exchange(server, HEALTH_CHECK_PATH, lyingPrefix)).grpcStatus).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    const answer = await exchange(server, HEALTH_CHECK_PATH, grpcFrame(Buffer.alloc(64 * 1024)));
    expect(answer).toMatchObject({ grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED, messages: [] });
    if (transport === 'native') expect(answer.grpcMessage).toMatch(/larger than 1024 bytes/); // grpc-js words it its own way
  });

  it('reads a gzip-compressed request, and refuses one that inflates past the size limit', async () => {
    const server = await serve(() => ALLOW, 4096);
    const gzip = { 'grpc-encoding': 'gzip' };
    expect((await exchange(server, HEALTH_CHECK_PATH, grpcFrame(gzipSync(HEALTH_REQUEST), 1), gzip)).grpcStatus).toBe(GrpcStatus.OK);
    const bomb = grpcFrame(gzipSync(Buffer.alloc(1 << 20)), 1);
    expect((await exchange(server, HEALTH_CHECK_PATH, bomb, gzip)).grpcStatus).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect((await exchange(server, HEALTH_CHECK_PATH, grpcFrame(Buffer.from('not gzip'), 1), gzip)).grpcStatus).toBe(GrpcStatus.INTERNAL);
  });

  // grpc-js refuses it too, without naming the encodings it accepts
  it.runIf(transport === 'native')('refuses an encoding it does not know with UNIMPLEMENTED, naming those it accepts', async () => {
    const answer = await exchange(await serve(), HEALTH_CHECK_PATH, grpcFrame(HEALTH_REQUEST, 1), { 'grpc-encoding': 'br' });
    expect(answer.grpcStatus).toBe(GrpcStatus.UNIMPLEMENTED);
    expect(answer.grpcMessage).toMatch(/identity,gzip,deflate/);
  });

  it('serves a grpc-js client that compresses every message with gzip', async () => {
    const server = await serve();
    const client = rawClient(server.address, credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
    cleanups.push(() => client.close());
    const response = await new Promise<Buffer>((resolve, reject) => client.Check(checkBytes(), {}, (e, r) => (e || !r ? reject(e) : resolve(r))));
    expect(decodeCheckResponse(response).okResponse).toBeDefined();
  });

  it('ends a call whose handler has not answered by the grpc-timeout with DEADLINE_EXCEEDED, and drops the late answer', async () => {
    let late: ((d: Decision) => void) | undefined;
    const server = await serve(() => new Promise<Decision>((resolve) => (late = resolve)));
    const answer = await exchange(server, CHECK_METHOD_PATH, grpcFrame(checkBytes()), { 'grpc-timeout': '50m' });
    expect(answer).toMatchObject({ grpcStatus: GrpcStatus.DEADLINE_EXCEEDED, messages: [] });
    late!(ALLOW);
    expect((await exchange(server, CHECK_METHOD_PATH, grpcFrame(checkBytes()), { 'grpc-timeout': '100000u' })).grpcStatus).toBe(GrpcStatus.DEADLINE_EXCEEDED);
  });

  it('ends a call whose request body has not finished by its grpc-timeout with DEADLINE_EXCEEDED, and keeps serving', async () => {
    const server = await serve();
    const session = http2.connect(`http://${server.address}`);
    cleanups.push(() => void session.destroy());
    const stream = session.request({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc', 'grpc-timeout': '200m' });
    stream.on('error', () => {});
    stream.write(grpcFrame(checkBytes()).subarray(0, 8)); // a prefix and three bytes, then nothing
    const status = await new Promise<number>((resolve) => stream.on('response', (h) => resolve(Number(h['grpc-status']))));
    expect(status).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect((await exchange(server, CHECK_METHOD_PATH, grpcFrame(checkBytes()))).grpcStatus).toBe(GrpcStatus.OK);
  });

  // grpc-js parses grpc-timeout itself: INTERNAL for some of these, and it reads '-1m' as '1m'
  it.runIf(transport === 'native').each(['1', '123456789S', '5s', '-1m'])('refuses the malformed grpc-timeout %j with OUT_OF_RANGE', async (timeout) => {
    const answer = await exchange(await serve(), HEALTH_CHECK_PATH, grpcFrame(HEALTH_REQUEST), { 'grpc-timeout': timeout });
    expect(answer.grpcStatus).toBe(GrpcStatus.OUT_OF_RANGE);
  });

  it('survives a client that resets the stream before the answer, and answers the next call', async () => {
    let answer: ((d: Decision) => void) | undefined;
    const server = await serve(() => new Promise<Decision>((resolve) => (answer = resolve)));
    const session = http2.connect(`http://${server.address}`);
    cleanups.push(() => void session.destroy());
    const stream = session.request({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc' });
    stream.on('error', () => {});
    stream.end(grpcFrame(checkBytes()));
    await expect.poll(() => answer).toBeDefined();
    const first = answer!;
    answer = undefined;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    // frames of one connection arrive in order: once the server has the next call, it has the reset
    const next = session.request({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc' });
    next.on('error', () => {});
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => next.once('trailers', resolve));
    next.resume();
    next.end(grpcFrame(checkBytes()));
    await expect.poll(() => answer).toBeDefined();
    first(ALLOW); // the late answer to the reset call
    answer!(ALLOW);
    expect(Number((await trailers)['grpc-status'])).toBe(GrpcStatus.OK);
  });
});

// Envoy takes a gRPC error from the authorization service as its failure, which
// `failure_mode_allow: true` lets through: every Check the transport refuses is denied with a
// CheckResponse instead. (grpc-js refuses an oversized message itself, with RESOURCE_EXHAUSTED:
// a gap of that transport, in the README.)
describe('a Check the native transport refuses', () => {
  it.each([
    ['larger than the message limit', grpcFrame(Buffer.alloc(2048)), {}, 'request_too_large'],
    ['whose prefix claims more than the limit', Buffer.from([0, 0, 0, 0x10, 0]), {}, 'request_too_large'],
    ['inflating past the limit', grpcFrame(gzipSync(Buffer.alloc(1 << 20)), 1), { 'grpc-encoding': 'gzip' }, 'request_too_large'],
    ['truncated', grpcFrame(Buffer.alloc(10)).subarray(0, 9), {}, 'missing_http_attributes'],
    ['in an encoding it does not know', grpcFrame(Buffer.alloc(3), 1), { 'grpc-encoding': 'br' }, 'missing_http_attributes'],
    ['with a malformed grpc-timeout', grpcFrame(Buffer.alloc(3)), { 'grpc-timeout': '5s' }, 'missing_http_attributes'],
  ])('is answered 400, never a gRPC error: %s', async (_case, body, headers, reason) => {
    const server = await serveOn('native', () => ALLOW, 1024);
    const answer = await exchange(server, CHECK_METHOD_PATH, body, headers);
    expect(answer.grpcStatus).toBe(GrpcStatus.OK);
    const response = decodeCheckResponse(answer.messages[0]!);
    expect(response.deniedResponse?.status?.code).toBe(400);
    expect(JSON.stringify(response.dynamicMetadata)).toContain(reason);
  });
});

describe.each(['native', 'grpc-js'] as const)('grpc.health.v1 on the %s server', (transport) => {
  const serve = () => serveOn(transport);

  it('ends Check of an unknown service with NOT_FOUND', async () => {
    const unknown = Buffer.from([0x0a, 0x03, ...Buffer.from('foo')]);
    expect((await exchange(await serve(), HEALTH_CHECK_PATH, grpcFrame(unknown))).grpcStatus).toBe(GrpcStatus.NOT_FOUND);
  });

  it('streams the status to a Watch as it changes, and ends the Watch with UNAVAILABLE on close', async () => {
    const server = await serve();
    const session = http2.connect(`http://${server.address}`);
    cleanups.push(() => void session.destroy());
    const stream = session.request({ ':method': 'POST', ':path': HEALTH_WATCH_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    const statuses: number[] = [];
    let trailerStatus: number | undefined;
    stream.on('data', (chunk: Buffer) => statuses.push(...messagesOf(chunk).map((m) => m[1] ?? 0)));
    stream.on('trailers', (h) => (trailerStatus = Number(h['grpc-status'])));
    stream.end(grpcFrame(HEALTH_REQUEST));
    await expect.poll(() => statuses).toEqual([2]); // NOT_SERVING
    server.health.setServing(true);
    await expect.poll(() => statuses).toEqual([2, 1]); // SERVING
    await server.close(200);
    await expect.poll(() => statuses).toEqual([2, 1, 2]);
    await expect.poll(() => trailerStatus).toBe(status.UNAVAILABLE);
  });

  it('forgets a Watch that ended by its deadline or was cancelled by the client', async () => {
    const server = await serve();
    const session = http2.connect(`http://${server.address}`);
    cleanups.push(() => void session.destroy());
    const watch = (headers: http2.OutgoingHttpHeaders) => {
      const stream = session.request({ ':method': 'POST', ':path': HEALTH_WATCH_PATH, 'content-type': 'application/grpc', ...headers });
      stream.on('error', () => {});
      stream.resume();
      stream.end(grpcFrame(HEALTH_REQUEST));
      return stream;
    };
    const timed = watch({ 'grpc-timeout': '100m' });
    const cancelled = watch({});
    await expect.poll(() => server.health.watching).toBe(2);
    cancelled.close(http2.constants.NGHTTP2_CANCEL);
    const deadline = await new Promise<number>((resolve) => timed.on('trailers', (h) => resolve(Number(h['grpc-status']))));
    expect(deadline).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    await expect.poll(() => server.health.watching).toBe(0);
  });

  it('streams SERVICE_UNKNOWN to a Watch of an unknown service', async () => {
    const server = await serve();
    const session = http2.connect(`http://${server.address}`);
    cleanups.push(() => void session.destroy());
    const stream = session.request({ ':method': 'POST', ':path': HEALTH_WATCH_PATH, 'content-type': 'application/grpc' });
    const statuses: number[] = [];
    stream.on('data', (chunk: Buffer) => statuses.push(...messagesOf(chunk).map((m) => m[1] ?? 0)));
    stream.on('error', () => {});
    stream.end(grpcFrame(Buffer.from([0x0a, 0x03, ...Buffer.from('foo')])));
    await expect.poll(() => statuses).toEqual([3]);
  });
});
