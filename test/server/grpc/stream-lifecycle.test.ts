/**
 * Every stream state a client controls, against a real server on loopback: resets at each
 * point of a call, sessions torn down with calls in flight, bodies that never finish,
 * buffers that must be given back, and connections that must not outlive their use. After
 * each, the server still answers a legitimate Check. (Each case reproduces a way the
 * server was once crashed or held memory; see issue 11.)
 */
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/domain/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy } from '../../helpers/decided-by.js';
import { encodeCheckRequest } from '../../../src/envoy/index.js';
import { CHECK_METHOD_PATH, GrpcStatus, HEALTH_CHECK_PATH, startGrpcServer, type GrpcServerOptions, type RunningGrpcServer } from '../../../src/server/grpc/index.js';
import { answersACheck as answersACheckAt } from '../../helpers/check-client.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';
import { TRANSPORTS } from '../../helpers/transports.js';

const ALLOW: Decision = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 };
const CHECK = grpcFrame(encodeCheckRequest({ attributes: { request: { http: { method: 'GET', path: '/x', host: 'svc' } } } }));
const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL } = http2.constants;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(transport: GrpcServerOptions['transport'], extra: Partial<GrpcServerOptions> = {}): Promise<RunningGrpcServer> {
  const server = await startGrpcServer({
    address: '127.0.0.1:0',
    transport,
    authorization: createAuthorizationService(decidedBy(() => ALLOW)),
    initiallyServing: true,
    ...extra,
  });
  cleanups.push(() => server.close(100));
  return server;
}

function connect(server: RunningGrpcServer): http2.ClientHttp2Session {
  const session = http2.connect(`http://${server.address}`);
  session.on('error', () => {});
  cleanups.push(() => void session.destroy());
  return session;
}

function open(session: http2.ClientHttp2Session, path = CHECK_METHOD_PATH, headers: http2.OutgoingHttpHeaders = {}): http2.ClientHttp2Stream {
  const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  stream.on('error', () => {});
  stream.resume();
  return stream;
}

/**
 * The grpc-status a call ends with, as soon as it arrives (in trailers, or trailers-only
 * headers), or 'reset' when the stream closed without one. The client may still be sending.
 */
function statusOf(stream: http2.ClientHttp2Stream): Promise<number | 'reset'> {
  return new Promise((resolve) => {
    const read = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined) resolve(Number(headers['grpc-status']));
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('close', () => resolve('reset'));
  });
}

/** Resolves once the stream is closed at both ends: the server reset a client still sending. */
const closed = (stream: http2.ClientHttp2Stream) => new Promise((resolve) => stream.once('close', resolve));

const answersACheck = (server: RunningGrpcServer) => answersACheckAt(server.address, CHECK.subarray(5));

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe.each(TRANSPORTS)('the %s transport, whatever a client does to its streams', (transport) => {
  it.each([
    ['a Check after HEADERS alone', CHECK_METHOD_PATH, Buffer.alloc(0)],
    ['a Check after part of its body', CHECK_METHOD_PATH, CHECK.subarray(0, 6)],
    ['a Health Check after part of its body', HEALTH_CHECK_PATH, Buffer.from([0, 0, 0, 0, 2, 0x0a])],
  ])('stays up when the client resets %s with RST_STREAM(NO_ERROR)', async (_case, path, partial) => {
    const server = await serve(transport);
    const session = connect(server);
    for (let i = 0; i < 20; i += 1) {
      const stream = open(session, path);
      if (partial.length > 0) stream.write(partial);
      stream.close(NGHTTP2_NO_ERROR);
    }
    await settle();
    expect(await answersACheck(server)).toBe(true);
  });

  it('stays up when a client destroys its request mid-body, or resets it with CANCEL', async () => {
    const server = await serve(transport);
    const session = connect(server);
    for (let i = 0; i < 20; i += 1) {
      const stream = open(session);
      stream.write(CHECK.subarray(0, 8));
      if (i % 2 === 0) setImmediate(() => stream.destroy());
      else stream.close(NGHTTP2_CANCEL);
    }
    await settle();
    expect(await answersACheck(server)).toBe(true);
  });

  it('stays up when a client destroys its session with 400 calls in flight, complete and partial', async () => {
    const server = await serve(transport);
    for (let round = 0; round < 3; round += 1) {
      const session = connect(server);
      for (let i = 0; i < 400; i += 1) {
        const stream = open(session);
        if (i % 2 === 0) stream.end(CHECK);
        else stream.write(CHECK.subarray(0, 10));
      }
      setImmediate(() => session.destroy());
      await settle();
    }
    expect(await answersACheck(server)).toBe(true);
  });

  it('ends a body that never finishes by the deadline limit, whatever grpc-timeout says', async () => {
    const server = await serve(transport, { limits: { deadlineMs: 300 } });
    const session = connect(server);
    const started = performance.now();
    const stream = open(session, CHECK_METHOD_PATH, { 'grpc-timeout': '99999999H' });
    stream.write(CHECK.subarray(0, 10));
    expect(await statusOf(stream)).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await answersACheck(server)).toBe(true);
  });

  it('advertises a limit on concurrent streams', async () => {
    const server = await serve(transport, { limits: { streamsPerConnection: 50 } });
    const session = connect(server);
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(50);
  });

  it('sends GOAWAY to a connection idle for maxConnectionIdle, and closes it', async () => {
    const server = await serve(transport, { connections: { maxConnectionIdleMs: 200 } });
    const session = connect(server);
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    const closed = new Promise((resolve) => session.once('close', resolve));
    expect(await answersACheck(server)).toBe(true);
    await goaway;
    await closed;
  });

  it('refuses a message larger than the limit with RESOURCE_EXHAUSTED before reading the rest', async () => {
    const server = await serve(transport, { limits: { messageBytes: 64 * 1024 } });
    const session = connect(server);
    const stream = open(session, HEALTH_CHECK_PATH);
    const header = Buffer.from([0, 0, 0x10, 0, 0]); // says 1 MiB follows
    stream.write(Buffer.concat([header, Buffer.alloc(70 * 1024)]));
    expect(await statusOf(stream)).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(await answersACheck(server)).toBe(true);
  });
});

/** Buffering, connection accounting and content types: what our own transport does by itself. */
describe('the native transport, bounding what clients hold', () => {
  it('counts every partial body against one budget, refuses what exceeds it, and gives it all back when the calls end', async () => {
    const server = await serve('native', { limits: { bufferedBytes: 256 * 1024, messageBytes: 4 * 1024 * 1024 } });
    const prefix = Buffer.from([0, 0, 0x20, 0, 0]); // a 2 MiB message, never finished
    const holders: http2.ClientHttp2Stream[] = [];
    const statuses: Array<Promise<number | 'reset'>> = [];
    for (let i = 1; i <= 3; i += 1) {
      const stream = open(connect(server), HEALTH_CHECK_PATH);
      statuses.push(statusOf(stream));
      stream.write(Buffer.concat([prefix, Buffer.alloc(100 * 1024)]));
      holders.push(stream);
      if (i < 3) await expect.poll(() => server.load().bufferedBytes, { timeout: 5_000 }).toBeGreaterThanOrEqual(i * 100 * 1024);
    }
    // the third does not fit: 300 KiB > 256 KiB
    expect(await statuses[2]).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(server.load().bufferedBytes).toBeLessThanOrEqual(256 * 1024);
    for (const stream of holders) stream.close(NGHTTP2_CANCEL);
    await expect.poll(() => server.load().bufferedBytes).toBe(0);
    expect(await answersACheck(server)).toBe(true);
  });

  it('resets the stream of a body that missed its deadline, and gives back its bytes', async () => {
    const server = await serve('native', { limits: { deadlineMs: 200 } });
    const session = connect(server);
    const stream = open(session);
    stream.write(Buffer.concat([Buffer.from([0, 0, 0x10, 0, 0]), Buffer.alloc(64 * 1024)]));
    await expect.poll(() => server.load().bufferedBytes).toBeGreaterThan(0);
    expect(await statusOf(stream)).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    await closed(stream);
    await expect.poll(() => server.load().bufferedBytes).toBe(0);
  });

  it('resets the stream of a message refused as too large, so the client stops sending', async () => {
    const server = await serve('native', { limits: { messageBytes: 64 * 1024 } });
    const stream = open(connect(server), HEALTH_CHECK_PATH);
    stream.write(Buffer.concat([Buffer.from([0, 0, 0x10, 0, 0]), Buffer.alloc(70 * 1024)]));
    expect(await statusOf(stream)).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    await closed(stream);
  });

  it('closes connections past the connection limit as they arrive', async () => {
    const server = await serve('native', { limits: { connections: 3 } });
    const sessions = Array.from({ length: 3 }, () => connect(server));
    await Promise.all(sessions.map((s) => new Promise((resolve) => s.once('connect', resolve))));
    const fourth = connect(server);
    await new Promise((resolve) => fourth.once('close', resolve));
    expect(server.load().connections).toBe(3);
    for (const session of sessions) session.destroy();
    await expect.poll(() => server.load().connections).toBe(0);
    expect(await answersACheck(server)).toBe(true);
  });

  it('closes the connection of a client that sent GOAWAY once its calls are over', async () => {
    const server = await serve('native');
    const session = connect(server);
    await new Promise((resolve) => session.once('connect', resolve));
    expect(server.load().connections).toBe(1);
    session.goaway(NGHTTP2_NO_ERROR);
    await expect.poll(() => server.load().connections).toBe(0);
  });

  it('cuts a connection that resets streams as fast as a rapid-reset attack, at once and not when it goes idle', async () => {
    const server = await serve('native'); // the default 5-minute idle time
    const session = connect(server);
    await new Promise((resolve) => session.once('connect', resolve));
    for (let i = 0; i < 3_000 && !session.destroyed; i += 1) {
      try {
        open(session).close(NGHTTP2_CANCEL);
      } catch {
        break; // the client's own node:http2 refuses new streams once the server went away
      }
    }
    await expect.poll(() => server.load().connections, { timeout: 5_000 }).toBe(0);
    expect(await answersACheck(server)).toBe(true);
  });

  it('refuses an unknown grpc-encoding at once, before any body is sent', async () => {
    const server = await serve('native');
    const stream = open(connect(server), HEALTH_CHECK_PATH, { 'grpc-encoding': 'br' });
    expect(await statusOf(stream)).toBe(GrpcStatus.UNIMPLEMENTED);
  });

  it.each(['application/grpc-web', 'application/grpc-web+proto', 'application/grpcXYZ', 'application/grpc+json'])(
    'answers content type %s with 415: it is not gRPC as we speak it',
    async (contentType) => {
      const server = await serve('native');
      const stream = open(connect(server), CHECK_METHOD_PATH, { 'content-type': contentType });
      stream.end(CHECK);
      const status = await new Promise((resolve) => stream.once('response', (headers) => resolve(headers[':status'])));
      expect(status).toBe(415);
    },
  );
});
