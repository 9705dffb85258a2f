/**
 * A hostile client speaking raw HTTP/2 frames over a net.Socket, to both transports: resets
 * at every point of a call with every error code, a Health Watch reset, DATA after
 * END_STREAM, trailers from the client, PRIORITY and WINDOW_UPDATE oddities, CONTINUATION,
 * SETTINGS and PING floods, and rapid reset (CVE-2023-44487). After each, the server still
 * allows what policy allows and denies what it denies, and nothing is left open that the
 * client abandoned. Every loop is bounded; everything is on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/domain/index.js';
import type { AccessRequest } from '../../../src/domain/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy } from '../../helpers/decided-by.js';
import { encodeCheckRequest } from '../../../src/envoy/index.js';
import { startGrpcServer, type GrpcServerOptions, type GrpcTransport, type RunningGrpcServer } from '../../../src/server/grpc/index.js';
import { rawClient } from '../../helpers/check-client.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';
import { END_HEADERS, END_STREAM, TYPE, frame, hpack, priority, rawConnection as connectRaw, requestHeaders, rst, settings, windowUpdate, type RawConnection } from '../../helpers/raw-h2.js';

const TRANSPORTS: readonly GrpcTransport[] = ['native', 'grpc-js'];
const decide = (request: AccessRequest): Decision =>
  request.path === '/allowed'
    ? { id: 'a', verdict: 'allow', reason: 'policy_allow', generation: 1 }
    : { id: 'd', verdict: 'deny', reason: 'policy_deny', generation: 1 };
const checkOf = (path: string) => encodeCheckRequest({ attributes: { request: { http: { method: 'GET', path, host: 'svc' } } } });
const DENIED = grpcFrame(checkOf('/denied'));
const WATCH_BODY = grpcFrame(Buffer.from([0x0a, 0x00]));
const WATCH = '/grpc.health.v1.Health/Watch';
/** Every RST_STREAM code HTTP/2 defines, one it does not, and the largest. */
const CODES = [...Array.from({ length: 14 }, (_, i) => i), 0xff, 0xffffffff];

const cleanups: Array<() => Promise<void> | void> = [];

function rawConnection(server: RunningGrpcServer, clientSettings: Array<[number, number]> = []): RawConnection {
  const connection = connectRaw(server.port!, clientSettings);
  cleanups.push(() => connection.destroy());
  return connection;
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(transport: GrpcTransport, extra: Partial<GrpcServerOptions> = {}): Promise<RunningGrpcServer> {
  const server = await startGrpcServer({
    address: '127.0.0.1:0',
    transport,
    authorization: createAuthorizationService(decidedBy(decide)),
    initiallyServing: true,
    ...extra,
  });
  cleanups.push(() => server.close(100));
  return server;
}

/** The CheckResponse status code (0 allow, 7 deny) a fresh grpc-js client gets for `path`, or 'error'. */
async function verdictFor(server: RunningGrpcServer, path: string): Promise<number | 'error'> {
  const client = rawClient(server.address);
  try {
    return await new Promise((resolve) => {
      client.Check(checkOf(path), { deadline: Date.now() + 5_000 }, (error, response) => {
        if (error !== null || response === undefined) return resolve('error');
        // CheckResponse.status (field 1) → google.rpc.Status.code (field 1); absent = 0
        resolve(response[0] === 0x0a && response[2] === 0x08 ? response[3]! : 0);
      });
    });
  } finally {
    client.close();
  }
}

/** Still allowing what policy allows and denying the rest. */
async function stillDecides(server: RunningGrpcServer): Promise<void> {
  expect(await verdictFor(server, '/allowed')).toBe(0);
  expect(await verdictFor(server, '/denied')).toBe(7);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  while (!condition() && Date.now() - started < timeoutMs) await sleep(20);
  return condition();
}

describe.each(TRANSPORTS)('the %s transport, facing raw HTTP/2 frames', (transport) => {
  it.each([
    ['right after HEADERS', undefined, 0],
    ['in the middle of the body', DENIED.subarray(0, 9), 0],
    ['after END_STREAM, before the answer', DENIED, END_STREAM],
  ] as const)('stays up and keeps deciding when a client resets a Check %s, with every error code', async (_point, body, flags) => {
    const server = await serve(transport);
    const connection = rawConnection(server);
    let id = 1;
    for (const code of CODES) {
      const out = [frame(TYPE.HEADERS, END_HEADERS, id, requestHeaders())];
      if (body !== undefined) out.push(frame(TYPE.DATA, flags, id, body));
      connection.send(...out, rst(id, code));
      id += 2;
    }
    await sleep(100);
    await stillDecides(server);
    expect(connection.goaways()).toEqual([]); // a reset is the client's right: the connection stays usable
  });

  it('forgets every Health Watch a client resets, whatever the code', async () => {
    const server = await serve(transport);
    const connection = rawConnection(server);
    const ids = CODES.map((_, i) => 1 + 2 * i);
    for (const id of ids) connection.send(frame(TYPE.HEADERS, END_HEADERS, id, requestHeaders(WATCH)), frame(TYPE.DATA, END_STREAM, id, WATCH_BODY));
    expect(await until(() => server.health.watching === CODES.length, 2_000)).toBe(true);
    ids.forEach((id, i) => connection.send(rst(id, CODES[i]!)));
    expect(await until(() => server.health.watching === 0, 2_000)).toBe(true);
    await stillDecides(server);
  });

  it('answers a Check once, then treats DATA after END_STREAM as the protocol error it is', async () => {
    const server = await serve(transport);
    const connection = rawConnection(server);
    connection.send(frame(TYPE.HEADERS, END_HEADERS, 1, requestHeaders()), frame(TYPE.DATA, END_STREAM, 1, DENIED), frame(TYPE.DATA, END_STREAM, 1, DENIED));
    expect(await until(() => connection.goaways().length > 0, 2_000)).toBe(true);
    expect(connection.goaways()).toEqual([5]); // STREAM_CLOSED
    await stillDecides(server);
  });

  it('answers a Check whose client sent trailers, and refuses trailers without END_STREAM', async () => {
    const server = await serve(transport);
    const connection = rawConnection(server);
    connection.send(
      frame(TYPE.HEADERS, END_HEADERS, 1, requestHeaders()),
      frame(TYPE.DATA, 0, 1, DENIED),
      frame(TYPE.HEADERS, END_HEADERS | END_STREAM, 1, hpack([['x-trailer', 'y'], ['grpc-status', '0']])),
      frame(TYPE.HEADERS, END_HEADERS, 3, requestHeaders()),
      frame(TYPE.DATA, 0, 3, DENIED),
      frame(TYPE.HEADERS, END_HEADERS, 3, hpack([['x-trailer', 'y']])),
    );
    expect(await until(() => connection.frames.some((f) => f.stream === 1 && f.type === TYPE.DATA), 2_000)).toBe(true);
    expect(await until(() => connection.frames.some((f) => f.stream === 3 && f.type === TYPE.RST_STREAM), 2_000)).toBe(true);
    expect(connection.frames.some((f) => f.stream === 3 && f.type === TYPE.DATA)).toBe(false);
    await stillDecides(server);
  });

  it('survives PRIORITY on itself, on stream 0 and on 20,000 idle streams, and WINDOW_UPDATE of 0 or past 2^31-1', async () => {
    const server = await serve(transport);
    const priorities = rawConnection(server);
    const flood = Array.from({ length: 20_000 }, (_, i) => priority(101 + 2 * i, 99 + 2 * i));
    priorities.send(priority(1, 1), ...flood, priority(0, 3));
    const windows = rawConnection(server);
    windows.send(
      frame(TYPE.HEADERS, END_HEADERS, 1, requestHeaders()),
      windowUpdate(1, 0),
      windowUpdate(1, 0x7fffffff),
      windowUpdate(1, 0x7fffffff),
      windowUpdate(0, 0x7fffffff),
      windowUpdate(0, 0x7fffffff),
    );
    expect(await until(() => windows.closed, 2_000)).toBe(true); // FLOW_CONTROL_ERROR on the connection window
    await stillDecides(server);
  });

  it('cuts a connection that floods CONTINUATION frames without END_HEADERS, before it has read 64 MB', async () => {
    const server = await serve(transport);
    const connection = rawConnection(server);
    const block = hpack(Array.from({ length: 100 }, (_, i) => [`x-h${i}`, 'v'.repeat(120)] as [string, string])).subarray(0, 16_000);
    connection.send(frame(TYPE.HEADERS, 0, 1, requestHeaders()));
    let sent = 0;
    while (!connection.closed && sent < 64 * 1024 * 1024) {
      connection.send(...Array.from({ length: 64 }, () => frame(TYPE.CONTINUATION, 0, 1, block)));
      sent += 64 * 16_009;
      await sleep(1);
    }
    expect(connection.closed).toBe(true);
    await stillDecides(server);
  });

  it.each([
    ['SETTINGS', () => settings([[3, 100]])],
    ['PING', () => frame(TYPE.PING, 0, 0, Buffer.alloc(8))],
  ] as const)('cuts a connection that floods %s and never reads the acknowledgements', async (_kind, make) => {
    const server = await serve(transport);
    const connection = rawConnection(server);
    await sleep(20);
    connection.stopReading();
    for (let i = 0; i < 50 && !connection.closed; i += 1) {
      connection.send(...Array.from({ length: 1_000 }, make));
      await sleep(5);
    }
    expect(await until(() => connection.closed, 3_000)).toBe(true);
    await stillDecides(server);
  });

  it('answers rapid reset (HEADERS then RST_STREAM, thousands of times) with GOAWAY, and keeps deciding', async () => {
    const server = await serve(transport);
    const connection = rawConnection(server);
    await sleep(20);
    const pairs: Buffer[] = [];
    for (let i = 0; i < 3_000; i += 1) pairs.push(frame(TYPE.HEADERS, END_HEADERS, 1 + 2 * i, requestHeaders()), rst(1 + 2 * i, 8));
    connection.send(...pairs);
    expect(await until(() => connection.goaways().length > 0, 3_000)).toBe(true);
    await stillDecides(server);
  });

  it('closes a connection after the rapid-reset GOAWAY once maxConnectionIdle and the deadline limit have passed', async () => {
    const server = await serve(transport, { limits: { deadlineMs: 300 }, connections: { maxConnectionIdleMs: 300 } });
    const connection = rawConnection(server);
    await sleep(20);
    const pairs: Buffer[] = [];
    for (let i = 0; i < 3_000; i += 1) pairs.push(frame(TYPE.HEADERS, END_HEADERS, 1 + 2 * i, requestHeaders()), rst(1 + 2 * i, 8));
    connection.send(...pairs);
    expect(await until(() => connection.goaways().length > 0, 3_000)).toBe(true);
    expect(await until(() => connection.closed, 3_000)).toBe(true);
  });
});
