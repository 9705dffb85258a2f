/**
 * A hostile client against the listener's limits, on both transports: bodies straddling
 * messageBytes, compression bombs, grpc-timeout edge values, slowloris bodies, silent
 * connections, answers never read (zero window), partial bodies against the buffered-bytes
 * budget, and CheckRequests crafted to cost CPU. Nothing a client sends may turn a deny into
 * an allow, hold memory or streams past the limits, or cost the event loop much per request.
 * `it.fails` marks a defect reported to the lead (reproductions in the report); it turns red
 * once the defect is fixed, so the marker can go.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessRequest, Decision } from '../../../src/domain/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy } from '../../helpers/decided-by.js';
import { decodeCheckResponse, encodeCheckRequest, type CheckRequestMessage } from '../../../src/envoy/index.js';
import { CHECK_METHOD_PATH, GrpcStatus, HEALTH_CHECK_PATH, startGrpcServer, type GrpcServerOptions, type GrpcTransport, type RunningGrpcServer } from '../../../src/server/grpc/index.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';

const TRANSPORTS: readonly GrpcTransport[] = ['native', 'grpc-js'];
const decide = (request: AccessRequest): Decision =>
  request.path === '/allowed'
    ? { id: 'a', verdict: 'allow', reason: 'policy_allow', generation: 1 }
    : { id: 'd', verdict: 'deny', reason: 'policy_deny', generation: 1 };
const http = (path: string, extra: object = {}): CheckRequestMessage => ({ attributes: { request: { http: { method: 'GET', path, host: 'svc', ...extra } } } });
const ALLOWED = encodeCheckRequest(http('/allowed'));
const DENIED = encodeCheckRequest(http('/denied'));
const OK = 0;
const PERMISSION_DENIED = 7;
const INVALID_ARGUMENT = 3; // google.rpc.Code of a 400 CheckResponse

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(transport: GrpcTransport, extra: Partial<GrpcServerOptions> = {}): Promise<RunningGrpcServer> {
  const server = await startGrpcServer({ address: '127.0.0.1:0', transport, authorization: createAuthorizationService(decidedBy(decide)), initiallyServing: true, ...extra });
  cleanups.push(() => server.close(100));
  return server;
}

function connect(server: RunningGrpcServer, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const session = http2.connect(`http://${server.address}`, { settings });
  session.on('error', () => {});
  cleanups.push(() => void session.destroy());
  return session;
}

interface Outcome {
  /** grpc-status, or 'reset' when the stream closed without one. */
  readonly grpcStatus: number | 'reset';
  /** The CheckResponse's status code when there was one: 0 allow, 7 deny, 3 invalid. */
  readonly verdict?: number;
}

/** One Check on its own connection, `body` as the whole request body. */
async function call(server: RunningGrpcServer, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<Outcome> {
  const session = connect(server);
  const stream = session.request({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  stream.on('error', () => {});
  const chunks: Buffer[] = [];
  let grpcStatus: number | undefined;
  const read = (h: http2.IncomingHttpHeaders) => h['grpc-status'] !== undefined && (grpcStatus = Number(h['grpc-status']));
  stream.on('response', read);
  stream.on('trailers', read);
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.end(body);
  await new Promise((resolve) => stream.once('close', resolve));
  session.close();
  const data = Buffer.concat(chunks);
  const verdict = data.length > 5 ? (decodeCheckResponse(data.subarray(5)).status?.code ?? 0) : undefined;
  return { grpcStatus: grpcStatus ?? 'reset', ...(verdict !== undefined ? { verdict } : {}) };
}

/** A denied CheckRequest of exactly `bytes` bytes (padded with raw_body, which attributeBytes does not count). */
function deniedOfSize(bytes: number): Buffer {
  let pad = bytes - DENIED.length - 8;
  for (let i = 0; i < 10; i += 1) {
    const message = encodeCheckRequest(http('/denied', { rawBody: Buffer.alloc(pad) }));
    if (message.length === bytes) return message;
    pad += bytes - message.length;
  }
  throw new Error(`no CheckRequest of ${bytes} bytes`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(TRANSPORTS)('the %s transport, held to its limits by a hostile client', (transport) => {
  const LIMIT = 64 * 1024;
  // A refused Check is denied with a 400 CheckResponse: a gRPC error is what Envoy's
  // failure_mode_allow lets through.
  const TOO_LARGE = { grpcStatus: OK, verdict: INVALID_ARGUMENT };

  it('answers a message of exactly messageBytes, and refuses one byte more', async () => {
    const server = await serve(transport, { limits: { messageBytes: LIMIT } });
    expect(await call(server, grpcFrame(deniedOfSize(LIMIT)))).toEqual({ grpcStatus: OK, verdict: PERMISSION_DENIED });
    expect(await call(server, grpcFrame(deniedOfSize(LIMIT + 1)))).toEqual(TOO_LARGE);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const)('inflates a %s message up to messageBytes and no further: a 50 MB bomb is refused', async (encoding, compress) => {
    const server = await serve(transport, { limits: { messageBytes: LIMIT } });
    const headers = { 'grpc-encoding': encoding };
    expect(await call(server, grpcFrame(compress(deniedOfSize(LIMIT)), 1), headers)).toEqual({ grpcStatus: OK, verdict: PERMISSION_DENIED });
    expect(await call(server, grpcFrame(compress(deniedOfSize(LIMIT + 1)), 1), headers)).toEqual(TOO_LARGE);
    const bomb = compress(Buffer.concat([deniedOfSize(LIMIT), Buffer.alloc(50 * 1024 * 1024)]), { level: 9 });
    expect(bomb.length).toBeLessThan(LIMIT);
    expect(await call(server, grpcFrame(bomb, 1), headers)).toEqual(TOO_LARGE);
  });

  it('never allows a denied request, whatever grpc-timeout says', async () => {
    const server = await serve(transport);
    for (const timeout of ['0n', '1n', '99999999H', '1', '+5S', '5 S', 'S', '123456789S', '-1S', '1.5S', '5S, 1H']) {
      const outcome = await call(server, grpcFrame(DENIED), { 'grpc-timeout': timeout });
      const denied = outcome.verdict === undefined || outcome.verdict === PERMISSION_DENIED || outcome.verdict === INVALID_ARGUMENT;
      expect(denied, `grpc-timeout ${timeout}: ${JSON.stringify(outcome)}`).toBe(true);
    }
    expect(await call(server, grpcFrame(ALLOWED), { 'grpc-timeout': '5S' })).toEqual({ grpcStatus: OK, verdict: OK });
  });

  it('ends a body trickled a byte at a time at the deadline limit', async () => {
    const server = await serve(transport, { limits: { deadlineMs: 300 } });
    const stream = connect(server).request({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => {});
    const body = grpcFrame(DENIED);
    let status: string | undefined;
    stream.on('response', (h) => (status ??= h['grpc-status'] as string | undefined));
    stream.on('trailers', (h) => (status ??= h['grpc-status'] as string | undefined));
    for (let i = 0; i < 30 && status === undefined && !stream.closed; i += 1) {
      stream.write(body.subarray(i, i + 1));
      await sleep(50);
    }
    expect(status).toBe(String(GrpcStatus.DEADLINE_EXCEEDED));
  });

  it('closes connections that never send a byte, or half a preface, at maxConnectionIdle', async () => {
    const server = await serve(transport, { connections: { maxConnectionIdleMs: 300 } });
    const closed = [Buffer.alloc(0), Buffer.from('PRI * HTTP')].map((sent) => {
      const socket = net.connect(server.port!, '127.0.0.1');
      socket.on('error', () => {});
      socket.resume(); // read what the server sends, so its end is seen
      socket.write(sent);
      cleanups.push(() => void socket.destroy());
      return new Promise((resolve) => socket.once('close', resolve));
    });
    const started = performance.now();
    await Promise.all(closed);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  // An answered Check whose client never opens its window would hold its stream, and its
  // connection, forever (1,000 streams × limits.connections). Native resets the streams past
  // the deadline limit; grpc-js cannot reset one stream from outside, so it cuts the connection.
  it('drops answered streams whose client never reads them by the deadline limit, and then the connection', async () => {
    const server = await serve(transport, { limits: { deadlineMs: 300 }, connections: { maxConnectionIdleMs: 300 } });
    const session = connect(server, { initialWindowSize: 0 });
    const streams = Array.from({ length: 20 }, () => {
      const stream = session.request({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => {});
      stream.end(grpcFrame(DENIED));
      return stream;
    });
    await sleep(2_000); // > 6 × both bounds
    expect(streams.filter((s) => !s.closed)).toHaveLength(0);
    expect(session.closed || session.destroyed).toBe(true);
  });

  it('refuses partial bodies past the buffered-bytes budget with RESOURCE_EXHAUSTED (seen on Health: a Check is answered 400)', async () => {
    const server = await serve(transport, { limits: { bufferedBytes: 256 * 1024, deadlineMs: 5_000 } });
    const prefix = Buffer.from([0, 0, 0x20, 0, 0]); // announces 2 MiB, never finished
    const statuses: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const stream = connect(server).request({ ':method': 'POST', ':path': HEALTH_CHECK_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => {});
      stream.write(Buffer.concat([prefix, Buffer.alloc(60 * 1024)]));
      const read = (h: http2.IncomingHttpHeaders) => h['grpc-status'] !== undefined && statuses.push(String(h['grpc-status']));
      stream.on('response', read);
      stream.on('trailers', read);
    }
    // 8 × 60 KiB = 480 KiB offered against 256 KiB: some must be refused well before the deadline
    for (let waited = 0; waited < 1_500 && statuses.length === 0; waited += 50) await sleep(50);
    const refused = statuses;
    expect(refused.filter((s) => s === String(GrpcStatus.RESOURCE_EXHAUSTED)).length).toBeGreaterThan(0);
  });

  it('denies a Check whose partial body does not fit the buffered-bytes budget with a 400 CheckResponse, and frees the budget when the streams end', async () => {
    const server = await serve(transport, { limits: { bufferedBytes: 256 * 1024, deadlineMs: 5_000 } });
    const session = connect(server);
    const prefix = Buffer.from([0, 0, 0x20, 0, 0]); // announces 2 MiB, never finished
    const answers: Buffer[] = [];
    const streams = Array.from({ length: 8 }, () => {
      const stream = session.request({ ':method': 'POST', ':path': CHECK_METHOD_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => {});
      stream.on('data', (chunk: Buffer) => answers.push(chunk));
      stream.write(Buffer.concat([prefix, Buffer.alloc(60 * 1024)]));
      return stream;
    });
    for (let waited = 0; waited < 1_500 && answers.length === 0; waited += 50) await sleep(50);
    expect(decodeCheckResponse(answers[0]!.subarray(5)).status?.code).toBe(INVALID_ARGUMENT);
    expect(server.load().bufferedBytes).toBeLessThanOrEqual(256 * 1024);
    for (const stream of streams) stream.close(http2.constants.NGHTTP2_CANCEL);
    for (let waited = 0; waited < 2_000 && server.load().bufferedBytes !== 0; waited += 50) await sleep(50);
    expect(server.load().bufferedBytes).toBe(0);
    expect(await call(server, grpcFrame(DENIED))).toEqual({ grpcStatus: OK, verdict: PERMISSION_DENIED });
  });
});

describe('CheckRequests crafted to cost CPU (the Check service both transports share)', () => {
  const service = createAuthorizationService(decidedBy(decide));
  /** Median milliseconds of the synchronous Check, and the verdict. */
  function measure(bytes: Uint8Array, runs = 7): { ms: number; verdict: number } {
    let verdict = -1;
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      service.checkBytes(bytes, (response) => (verdict = decodeCheckResponse(response).status?.code ?? 0));
      times.push(performance.now() - started);
    }
    return { ms: times.sort((a, b) => a - b)[runs >> 1]!, verdict };
  }

  it('refuses a metadata_context Struct nested 2,000 deep as a 400', () => {
    let value: object = { boolValue: true };
    for (let i = 0; i < 30; i += 1) value = { structValue: { fields: { a: value } } };
    // deeper than the encoder allows: build it on the wire by repeating the encoding of one level
    const shallow = measure(encodeCheckRequest({ attributes: { metadataContext: { filterMetadata: { f: { fields: { k: value } } } }, request: { http: { method: 'GET', path: '/denied', host: 'svc' } } } } as CheckRequestMessage));
    expect(shallow.verdict).toBe(PERMISSION_DENIED);
    const deep = measure(nestedMetadata(2_000));
    expect(deep.verdict).toBe(3); // invalid request: never an allow
  });

  it('refuses a request one header over the limit before decoding it', () => {
    const headers = Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`x-h-${i}`, 'v']));
    const over = measure(encodeCheckRequest(http('/allowed', { headers })));
    expect(over.verdict).toBe(3);
  });

  // 40,000 context_extensions fit in attributeBytes (512 KiB) and once cost ~150 ms of event
  // loop per request (decode + toMap): contextEntries refuses them before decoding.
  it('refuses a CheckRequest carrying 40,000 context_extensions as a 400, before decoding it', () => {
    const contextExtensions = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, 'v']));
    const bytes = encodeCheckRequest({ attributes: { contextExtensions, request: { http: { method: 'GET', path: '/denied', host: 'svc' } } } });
    expect(bytes.length).toBeLessThan(512 * 1024);
    expect(measure(bytes, 3).verdict).toBe(3);
  });
});

/** A CheckRequest whose metadata_context holds a Struct nested `depth` deep (wire-built: the encoder refuses it). */
function nestedMetadata(depth: number): Buffer {
  const field = (number: number, payload: Buffer) => Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
  let value = Buffer.from([0x20, 0x01]); // Value.bool_value = true
  for (let i = 0; i < depth; i += 1) value = field(5, field(1, Buffer.concat([field(1, Buffer.from('a')), field(2, value)])));
  const struct = field(1, Buffer.concat([field(1, Buffer.from('k')), field(2, value)]));
  const metadata = field(1, Buffer.concat([field(1, Buffer.from('f')), field(2, struct)]));
  const request = encodeCheckRequest(http('/denied'));
  const attributes = request.subarray(request[1]! < 0x80 ? 2 : 3);
  return field(1, Buffer.concat([attributes, field(11, metadata)]));
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}
