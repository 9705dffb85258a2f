/**
 * The listener on grpc-js (`transport: 'grpc-js'`), seen by real grpc-js clients and raw
 * node:http2 clients on 127.0.0.1: Check and Health through the real Authorization service,
 * the limits grpc-js is told and those added around it, and clients that go away mid-call.
 */
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, status, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import type { Decision } from '../../../src/domain/index.js';
import { decodeCheckResponse, encodeCheckRequest } from '../../../src/envoy/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy, type DecisionHandler } from '../../helpers/decided-by.js';
import {
  CHECK_METHOD_PATH,
  createHealthReporter,
  GrpcStatus,
  HEALTH_WATCH_PATH,
  startGrpcServer,
  type GrpcCall,
  type GrpcServerOptions,
  type RunningGrpcServer,
} from '../../../src/server/grpc/index.js';
import { startGrpcJsServer } from '../../../src/server/grpc-js/grpc-js-server.js';
import { CheckClient, httpCheck, rawClient, structToJson } from '../../helpers/check-client.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';
import { DEFAULT_CONNECTION_POLICY, DEFAULT_GRPC_LIMITS } from '../../../src/config/build.js';

/** What startGrpcServer hands a transport when the options name nothing. */
const DEFAULTS = { limits: DEFAULT_GRPC_LIMITS, connections: DEFAULT_CONNECTION_POLICY };

const ALLOW: Decision = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 };
const DENY: Decision = { id: 'd', verdict: 'deny', reason: 'policy_deny', generation: 1, by: { policy: 'no-admin', rule: 0 } };
const HEALTH_REQUEST = Buffer.from([0x0a, 0x00]); // HealthCheckRequest { service: "" }
const checkBytes = () => Buffer.from(encodeCheckRequest({ attributes: { request: { http: { method: 'GET', path: '/x', host: 'svc' } } } }));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(handler: DecisionHandler = () => ALLOW, options: Partial<GrpcServerOptions> = {}): Promise<RunningGrpcServer> {
  const running = await startGrpcServer({ address: '127.0.0.1:0', transport: 'grpc-js', authorization: createAuthorizationService(decidedBy(handler)), ...options });
  cleanups.push(() => running.close(200));
  return running;
}

/** A never-answered decision, and the way to answer it later. */
function pending(): { handler: DecisionHandler; answer: (d: Decision) => void; asked: () => boolean } {
  let resolve: ((d: Decision) => void) | undefined;
  return {
    handler: () => new Promise<Decision>((r) => (resolve = r)),
    answer: (d) => resolve?.(d),
    asked: () => resolve !== undefined,
  };
}

function check(address: string, bytes = checkBytes(), options: CallOptions = {}): Promise<Buffer> {
  const client = rawClient(address);
  cleanups.push(() => client.close());
  return new Promise((resolve, reject) => client.Check(bytes, options, (e, r) => (e || !r ? reject(e) : resolve(r))));
}

const codeOf = (promise: Promise<unknown>) => promise.then(() => status.OK, (e: ServiceError) => e.code);

function session(server: RunningGrpcServer): http2.ClientHttp2Session {
  const client = http2.connect(`http://${server.address}`);
  client.on('error', () => {});
  cleanups.push(() => void client.destroy());
  return client;
}

/** A raw request on `client`; resolves with grpc-status from the trailers-only answer or the trailers. */
function rawRequest(client: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}) {
  const stream = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  stream.on('error', () => {});
  const messages: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => messages.push(chunk));
  const grpcStatus = new Promise<number>((resolve) => {
    stream.on('response', (h) => h['grpc-status'] !== undefined && resolve(Number(h['grpc-status'])));
    stream.on('trailers', (h) => resolve(Number(h['grpc-status'])));
  });
  return { stream, messages, grpcStatus };
}

describe('Check and Health on grpc-js', () => {
  it('allows and denies through the real Authorization service, as Envoy reads the answers', async () => {
    const server = await serve((request) => (request.path.startsWith('/admin') ? DENY : ALLOW));
    const client = new CheckClient(server.address);
    cleanups.push(() => client.close());
    const allowed = await client.check(httpCheck({ path: '/v1/charges' }));
    expect(allowed.status?.code ?? 0).toBe(0);
    expect(allowed.okResponse).toBeDefined();
    const denied = await client.check(httpCheck({ path: '/admin/users' }));
    expect(denied.status?.code).toBe(7);
    expect(denied.deniedResponse?.status?.code).toBe('Forbidden');
    expect(structToJson(denied.dynamicMetadata)).toMatchObject({ decision: 'deny', reason: 'policy_deny' });
  });

  it('answers Health Check and streams Watch with grpc-js clients', async () => {
    const server = await serve();
    const client = new CheckClient(server.address);
    cleanups.push(() => client.close());
    expect(await client.health()).toBe('NOT_SERVING');
    const Health = makeGenericClientConstructor(
      { Watch: { path: HEALTH_WATCH_PATH, requestStream: false, responseStream: true, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
      'Health',
    );
    const health = new Health(server.address, credentials.createInsecure()) as unknown as { Watch(request: Buffer): NodeJS.EventEmitter & { cancel(): void } } & { close(): void };
    cleanups.push(() => health.close());
    const statuses: number[] = [];
    const watch = health.Watch(HEALTH_REQUEST);
    watch.on('data', (message: Buffer) => statuses.push(message[1] ?? 0));
    watch.on('error', () => {});
    await expect.poll(() => statuses).toEqual([2]);
    server.health.setServing(true);
    await expect.poll(() => statuses).toEqual([2, 1]);
    expect(await client.health()).toBe('SERVING');
    watch.cancel();
    await expect.poll(() => server.health.watching).toBe(0);
  });

  it('denies a Check over limits.messageBytes with a 400 CheckResponse, never a gRPC error, and keeps serving', async () => {
    const server = await serve(() => ALLOW, { limits: { messageBytes: 1024 } });
    const refused = decodeCheckResponse(await check(server.address, Buffer.alloc(64 * 1024)));
    expect(refused.status?.code).toBe(status.INVALID_ARGUMENT);
    expect(await codeOf(check(server.address))).toBe(status.OK);
  });

  it('ends a call whose handler throws with INTERNAL, and answers the next one', async () => {
    const health = createHealthReporter(true);
    let calls = 0;
    const methods = new Map([[CHECK_METHOD_PATH, (_request: Buffer, call: GrpcCall) => (calls++ === 0 ? fail() : call.reply(Buffer.alloc(0)))]]);
    const fail = () => {
      throw new Error('handler bug');
    };
    const server = await startGrpcJsServer({ address: '127.0.0.1:0', authorization: createAuthorizationService(decidedBy(() => ALLOW)) }, methods, health, DEFAULTS);
    cleanups.push(() => server.close(200));
    expect(await codeOf(check(server.address))).toBe(status.INTERNAL);
    expect(await codeOf(check(server.address))).toBe(status.OK);
  });

  it('ends a call once: what a handler sends after its answer is dropped, and onClose runs once it is over', async () => {
    const seen: string[] = [];
    const methods = new Map([
      [
        CHECK_METHOD_PATH,
        (_request: Buffer, call: GrpcCall) => {
          call.onClose(() => seen.push(`closed ${call.ended}`));
          call.reply(Buffer.from([0x12, 0x00]));
          seen.push(`ended ${call.ended}`);
          call.fail(GrpcStatus.INTERNAL, 'too late');
          call.send(Buffer.alloc(3));
          call.reply(Buffer.alloc(3));
        },
      ],
    ]);
    const server = await startGrpcJsServer({ address: '127.0.0.1:0', authorization: createAuthorizationService(decidedBy(() => ALLOW)) }, methods, createHealthReporter(), DEFAULTS);
    cleanups.push(() => server.close(200));
    expect(await check(server.address)).toEqual(Buffer.from([0x12, 0x00]));
    await expect.poll(() => seen).toEqual(['ended true', 'closed true']);
  });
});

describe('limits.deadlineMs on grpc-js', () => {
  const limits = { deadlineMs: 150 };

  it('ends a call not answered by the cap with DEADLINE_EXCEEDED, with or without a longer client deadline', async () => {
    const late = pending();
    const server = await serve(late.handler, { limits });
    const started = performance.now();
    expect(await codeOf(check(server.address))).toBe(status.DEADLINE_EXCEEDED);
    expect(await codeOf(check(server.address, checkBytes(), { deadline: Date.now() + 10_000 }))).toBe(status.DEADLINE_EXCEEDED);
    expect(performance.now() - started).toBeLessThan(2_000);
    late.answer(ALLOW); // the late answer goes nowhere
  });

  it('ends a call whose body never finishes, without grpc-timeout, by the cap', async () => {
    const server = await serve(() => ALLOW, { limits });
    const { stream, grpcStatus } = rawRequest(session(server), CHECK_METHOD_PATH);
    stream.write(grpcFrame(checkBytes()).subarray(0, 8)); // a prefix and three bytes, then nothing
    expect(await grpcStatus).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(await codeOf(check(server.address))).toBe(status.OK);
  });

  it('keeps a Watch without a client deadline open past the cap, and ends one with a longer deadline at the cap', async () => {
    const server = await serve(() => ALLOW, { limits });
    const client = session(server);
    const open = rawRequest(client, HEALTH_WATCH_PATH);
    open.stream.end(grpcFrame(HEALTH_REQUEST));
    const started = performance.now();
    const timed = rawRequest(client, HEALTH_WATCH_PATH, { 'grpc-timeout': '20S' });
    timed.stream.end(grpcFrame(HEALTH_REQUEST));
    expect(await timed.grpcStatus).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(performance.now() - started).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.health.watching).toBe(1);
    server.health.setServing(true);
    await expect.poll(() => Buffer.concat(open.messages)).toEqual(Buffer.concat([grpcFrame(Buffer.from([0x08, 0x02])), grpcFrame(Buffer.from([0x08, 0x01]))]));
  });
});

describe('clients that go away on grpc-js', () => {
  it('survives a client that cancels before the answer, and answers the next call', async () => {
    let first: ((d: Decision) => void) | undefined;
    const server = await serve(() => (first === undefined ? new Promise<Decision>((resolve) => (first = resolve)) : ALLOW));
    const client = rawClient(server.address);
    cleanups.push(() => client.close());
    const call = client.Check(checkBytes(), {}, () => {}) as unknown as { cancel(): void };
    await expect.poll(() => first).toBeDefined();
    call.cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
    first!(ALLOW); // answers a call that is gone
    expect(await codeOf(check(server.address))).toBe(status.OK);
  });

  it('survives RST_STREAM and a torn-down connection in the middle of a body, and keeps answering', async () => {
    const server = await serve();
    const client = session(server);
    const { stream } = rawRequest(client, CHECK_METHOD_PATH);
    stream.write(grpcFrame(checkBytes()).subarray(0, 8));
    await new Promise((resolve) => setTimeout(resolve, 20));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const torn = session(server);
    rawRequest(torn, CHECK_METHOD_PATH).stream.write(grpcFrame(checkBytes()).subarray(0, 8));
    await new Promise((resolve) => setTimeout(resolve, 20));
    torn.destroy();
    const again = rawRequest(client, CHECK_METHOD_PATH);
    again.stream.end(grpcFrame(checkBytes()));
    expect(await again.grpcStatus).toBe(GrpcStatus.OK);
    expect(await codeOf(check(server.address))).toBe(status.OK);
  });
});

describe('connections on grpc-js', () => {
  it('advertises limits.streamsPerConnection as SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const client = session(await serve(() => ALLOW, { limits: { streamsPerConnection: 7 } }));
    await new Promise((resolve) => client.once('remoteSettings', resolve));
    expect(client.remoteSettings.maxConcurrentStreams).toBe(7);
  });

  it('closes connections past limits.connections as they arrive, and keeps serving those it holds', async () => {
    const server = await serve(() => ALLOW, { limits: { connections: 1 } });
    const first = session(server);
    const held = rawRequest(first, CHECK_METHOD_PATH);
    held.stream.end(grpcFrame(checkBytes()));
    expect(await held.grpcStatus).toBe(GrpcStatus.OK);
    const second = session(server);
    await new Promise((resolve) => second.once('close', resolve));
    const again = rawRequest(first, CHECK_METHOD_PATH);
    again.stream.end(grpcFrame(checkBytes()));
    expect(await again.grpcStatus).toBe(GrpcStatus.OK);
  });

  it('closes a connection idle for maxConnectionIdleMs with GOAWAY', async () => {
    const client = session(await serve(() => ALLOW, { connections: { maxConnectionIdleMs: 100 } }));
    await new Promise((resolve) => client.once('goaway', resolve));
  });
});

describe('close on grpc-js', () => {
  it('lets a call in flight finish within graceMs, and stops taking new ones', async () => {
    const late = pending();
    const server = await serve(late.handler);
    const answered = codeOf(check(server.address));
    await expect.poll(late.asked).toBe(true);
    const closed = server.close(5_000);
    late.answer(ALLOW);
    expect(await answered).toBe(status.OK);
    await closed;
    expect(server.health.serving).toBe(false);
    expect(await codeOf(check(server.address, checkBytes(), { deadline: Date.now() + 1_000 }))).not.toBe(status.OK);
  });

  it('cuts a call still in flight once graceMs is over', async () => {
    const late = pending();
    const server = await serve(late.handler);
    const answered = codeOf(check(server.address));
    await expect.poll(late.asked).toBe(true);
    const started = performance.now();
    await server.close(100);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await answered).not.toBe(status.OK);
    expect(server.load().connections).toBe(0);
  });
});
