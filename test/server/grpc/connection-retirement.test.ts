/**
 * A connection the server retires (at `maxConnectionAge`, after `maxConnectionIdle`, at
 * shutdown) refuses no call its client had already sent: the client first hears a GOAWAY
 * naming stream 2^31-1 and a PING, keeps being served while the notice travels, and only
 * once it has answered the PING (or failed to, for a second) hears the GOAWAY naming the last
 * stream taken. A raw HTTP/2 client controls when it answers, so the race an Envoy under load
 * runs into (a Check sent while the GOAWAY is on the wire) happens on every run. A TLS
 * connection is retired in one step (see server/native/drain-notice.ts).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/domain/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy } from '../../helpers/decided-by.js';
import { encodeCheckRequest } from '../../../src/envoy/index.js';
import { startGrpcServer, type GrpcServerOptions, type RunningGrpcServer } from '../../../src/server/grpc/index.js';
import { grpcFrame } from '../../helpers/grpc-frame.js';
import { TestPki } from '../../identity/helpers/pki.js';
import { tempDir } from '../../helpers/server-process.js';
import { END_HEADERS, END_STREAM, TYPE, frame, rawConnection, requestHeaders, type RawConnection, type ReceivedFrame } from '../../helpers/raw-h2.js';

const NOTICE = 0x7fffffff;
const ALLOW: Decision = { id: 'a', verdict: 'allow', reason: 'policy_allow', generation: 1 };
const CHECK_BODY = grpcFrame(encodeCheckRequest({ attributes: { request: { http: { method: 'GET', path: '/', host: 'svc' } } } }));

let pki: TestPki;
beforeAll(() => {
  pki = new TestPki();
  pki.leaf('server', pki.root('ca', 'mesh.test'), { extra: ['subjectAltName=IP:127.0.0.1'] });
});
const pem = (name: string) => readFileSync(join(pki.dir, name));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Channel = 'tcp' | 'unix' | 'tls';

async function serve(connections: GrpcServerOptions['connections'], channel: Channel = 'tcp'): Promise<RunningGrpcServer> {
  const overTls = channel === 'tls';
  const server = await startGrpcServer({
    address: channel === 'unix' ? `unix:${join(tempDir(), 'grpc.sock')}` : '127.0.0.1:0',
    ...(overTls ? { tls: { cert: pem('server.pem'), key: pem('server.key') } } : {}),
    transport: 'native',
    authorization: createAuthorizationService(decidedBy(() => ALLOW)),
    initiallyServing: true,
    connections,
  });
  cleanups.push(() => server.close(100));
  return server;
}

function connect(server: RunningGrpcServer, channel: Channel = 'tcp'): RawConnection {
  const to =
    channel === 'tls' ? tls.connect({ host: '127.0.0.1', port: server.port!, ca: pem('ca.pem'), ALPNProtocols: ['h2'] })
    : channel === 'unix' ? net.connect(server.address.slice('unix:'.length))
    : server.port!;
  const connection = rawConnection(to);
  cleanups.push(() => connection.destroy());
  return connection;
}

async function waitFor<T>(find: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  for (let found = find(); ; found = find()) {
    if (found !== undefined || Date.now() > until) return found;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const goaways = (c: RawConnection) => c.frames.filter((f) => f.type === TYPE.GOAWAY).map((f) => f.payload.readUInt32BE(0) & 0x7fffffff);
const sendCheck = (c: RawConnection, stream: number) =>
  c.send(frame(TYPE.HEADERS, END_HEADERS, stream, requestHeaders()), frame(TYPE.DATA, END_STREAM, stream, CHECK_BODY));
const answered = (c: RawConnection, stream: number) =>
  c.frames.some((f) => f.stream === stream && f.type === TYPE.DATA) &&
  c.frames.some((f) => f.stream === stream && f.type === TYPE.HEADERS && (f.flags & END_STREAM) !== 0);
const pingOf = (c: RawConnection): ReceivedFrame | undefined => c.frames.find((f) => f.type === TYPE.PING && (f.flags & 1) === 0);

describe('retiring a connection (native transport)', () => {
  it.each<Channel>(['tcp', 'unix'])('serves a Check the client sent after the drain notice, before it answered the PING (%s)', async (channel) => {
    const server = await serve({ maxConnectionAgeMs: 100, maxConnectionAgeGraceMs: 2_000 }, channel);
    const client = connect(server, channel);
    sendCheck(client, 1);
    expect(await waitFor(() => goaways(client)[0], 2_000)).toBe(NOTICE);
    const ping = await waitFor(() => pingOf(client), 1_000);
    expect(ping).toBeDefined();

    sendCheck(client, 3); // in flight when the notice was sent, as an Envoy under load would have it
    await waitFor(() => (answered(client, 3) ? true : undefined), 1_000);
    client.send(frame(TYPE.PING, 1, 0, ping!.payload));

    expect(await waitFor(() => goaways(client)[1], 1_000)).toBe(3);
    expect(answered(client, 1) && answered(client, 3)).toBe(true);
    expect(client.frames.some((f) => f.type === TYPE.RST_STREAM)).toBe(false);
  });

  it('sends the final GOAWAY a second after the notice when the client never answers the PING', async () => {
    const server = await serve({ maxConnectionAgeMs: 100, maxConnectionAgeGraceMs: 5_000 });
    const client = connect(server);
    sendCheck(client, 1);
    expect(await waitFor(() => goaways(client)[0], 2_000)).toBe(NOTICE);
    const noticeAt = Date.now();
    expect(await waitFor(() => goaways(client)[1], 3_000)).toBe(1);
    expect(Date.now() - noticeAt).toBeGreaterThan(800);
    expect(await waitFor(() => (client.closed ? true : undefined), 3_000)).toBe(true);
  });

  it('retires a TLS connection in one step, a GOAWAY naming the last stream it took (no clear-text notice can be written there)', async () => {
    const server = await serve({ maxConnectionAgeMs: 100, maxConnectionAgeGraceMs: 2_000 }, 'tls');
    const client = connect(server, 'tls');
    sendCheck(client, 1);
    expect(await waitFor(() => goaways(client)[0], 2_000)).toBe(1);
    expect(answered(client, 1)).toBe(true);
    expect(await waitFor(() => (client.closed ? true : undefined), 3_000)).toBe(true);
  });

  it('gives an idle connection the same drain notice before closing it', async () => {
    const server = await serve({ maxConnectionIdleMs: 100 });
    const client = connect(server);
    sendCheck(client, 1);
    expect(await waitFor(() => goaways(client)[0], 2_000)).toBe(NOTICE);
    const ping = await waitFor(() => pingOf(client), 1_000);
    client.send(frame(TYPE.PING, 1, 0, ping!.payload));
    expect(await waitFor(() => goaways(client)[1], 1_000)).toBe(1);
    expect(await waitFor(() => (client.closed ? true : undefined), 3_000)).toBe(true);
  });
});
