/**
 * The HTTP ext_authz listener around the Check service: it answers as Envoy's HTTP client reads
 * answers, keeps connections alive for Envoy's pool and closes the idle ones, holds every bound
 * (connections, body bytes per request and across requests, time), tells readiness outside the
 * path prefix, and drains: requests in flight are answered, then their connections close.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Authorization } from '../../../src/domain/index.js';
import { httpRequest, rawExchange } from '../../helpers/raw-http1.js';
import { PREFIX, serveHttp, type ServeOptions, type Served } from './serve-http.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: ServeOptions = {}): Promise<Served> {
  const served = await serveHttp(options);
  cleanups.push(() => served.server.close(100));
  return served;
}

const HOST = ['host', 'shop'] as const;
const get = (path: string, extra: ReadonlyArray<readonly [string, string]> = []) => httpRequest('GET', `${PREFIX}${path}`, [HOST, ['x-request-id', 'req-1'], ...extra]);
const reasonOf = (observed: Authorization[]) => observed.at(-1)?.decision.reason;

describe('the HTTP ext_authz listener', () => {
  it('answers an allow 200 and a deny 403 with its JSON body, keeping the connection for the next request', async () => {
    const { server } = await serve();
    const answer = await rawExchange(server.address, [get('/allowed') + get('/denied')], { waitMs: 500, untilClose: true });
    expect(answer.status).toBe(200);
    expect(answer.raw).toContain('HTTP/1.1 403 Forbidden');
    expect(answer.raw).toContain('{"error":"forbidden","request_id":"req-1"}');
    expect(answer.raw).not.toMatch(/transfer-encoding/i);
    expect(answer.closed).toBe(false);
  });

  it('closes a keep-alive connection left idle past maxConnectionIdle', async () => {
    const { server } = await serve({ maxConnectionIdleMs: 200 });
    const answer = await rawExchange(server.address, [get('/allowed')], { waitMs: 2_000, untilClose: true });
    expect(answer.status).toBe(200);
    expect(answer.closed).toBe(true);
  });

  it('refuses a body declared past bodyBytes 400 unread, and closes the connection', async () => {
    const { server, observed } = await serve({ limits: { bodyBytes: 1024 } });
    const head = httpRequest('POST', `${PREFIX}/allowed`, [HOST, ['content-length', '5000']]);
    const answer = await rawExchange(server.address, [head], { waitMs: 1_000, untilClose: true });
    expect(answer).toMatchObject({ status: 400, closed: true });
    expect(reasonOf(observed)).toBe('request_too_large');
    expect(server.load().bufferedBytes).toBe(0);
  });

  it('refuses a chunked body that runs past bodyBytes 400, and lets go of what it held', async () => {
    const { server, observed } = await serve({ limits: { bodyBytes: 1024 } });
    const head = httpRequest('POST', `${PREFIX}/allowed`, [HOST, ['transfer-encoding', 'chunked']]);
    const chunk = `400\r\n${'x'.repeat(1024)}\r\n`;
    const answer = await rawExchange(server.address, [head, chunk, chunk], { waitMs: 1_000, gapMs: 20, untilClose: true });
    expect(answer).toMatchObject({ status: 400, closed: true });
    expect(reasonOf(observed)).toBe('request_too_large');
    expect(server.load().bufferedBytes).toBe(0);
  });

  it('refuses a body that would take the bodies held across requests past bufferedBytes', async () => {
    const { server, observed } = await serve({ limits: { bodyBytes: 4096, bufferedBytes: 4096 } });
    const head = httpRequest('POST', `${PREFIX}/allowed`, [HOST, ['content-length', '4000']]);
    // the first holds 3,000 bytes and waits for the rest; the second cannot fit 3,000 more
    const first = rawExchange(server.address, [head, 'x'.repeat(3000)], { waitMs: 800 });
    await expect.poll(() => server.load().bufferedBytes).toBe(3000);
    const second = await rawExchange(server.address, [head, 'y'.repeat(3000)], { waitMs: 800, untilClose: true });
    expect(second).toMatchObject({ status: 400, closed: true });
    expect(reasonOf(observed)).toBe('request_too_large');
    await first;
  });

  it('answers a body Envoy forwarded whole, handing it to the pipeline', async () => {
    let seen: Uint8Array | undefined;
    const { server } = await serve({ handler: (request) => ((seen = request.body), { decision: { id: 'a', verdict: 'allow', reason: 'policy_allow', generation: 1 } }) });
    const answer = await rawExchange(server.address, [httpRequest('POST', `${PREFIX}/x`, [HOST, ['content-length', '13']], '{"amount":10}')], { waitMs: 500 });
    expect(answer.status).toBe(200);
    expect(Buffer.from(seen!).toString()).toBe('{"amount":10}');
  });

  it('closes connections past the connection limit as they arrive', async () => {
    const { server } = await serve({ limits: { connections: 2 } });
    const port = Number(server.address.split(':')[1]);
    const open = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    for (const socket of open) {
      socket.on('error', () => {});
      cleanups.push(() => void socket.destroy());
    }
    await expect.poll(() => server.load().connections).toBe(2);
    const third = await rawExchange(server.address, [get('/allowed')], { waitMs: 1_000, untilClose: true });
    expect(third).toMatchObject({ status: 0, closed: true });
  });

  it('cuts a connection whose Check is not answered within the deadline: no answer, never an allow', async () => {
    const { server } = await serve({ limits: { deadlineMs: 300 }, handler: () => new Promise<never>(() => {}) });
    const started = Date.now();
    const answer = await rawExchange(server.address, [get('/allowed')], { waitMs: 3_000 });
    expect(answer).toMatchObject({ status: 0, closed: true });
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('says on GET /healthz, outside the path prefix, whether this process is ready', async () => {
    let ready = true;
    const { server, observed } = await serve({ ready: () => ready });
    expect((await rawExchange(server.address, [httpRequest('GET', '/healthz', [HOST])], { waitMs: 300 })).status).toBe(200);
    ready = false;
    expect((await rawExchange(server.address, [httpRequest('GET', '/healthz', [HOST])], { waitMs: 300 })).status).toBe(503);
    expect(observed).toEqual([]);
  });

  it('judges /healthz as a Check like any path when there is no path prefix', async () => {
    const { server, observed } = await serve({ pathPrefix: '' });
    expect((await rawExchange(server.address, [httpRequest('GET', '/healthz', [HOST])], { waitMs: 300 })).status).toBe(403);
    expect(reasonOf(observed)).toBe('policy_deny');
  });

  it('answers the Checks in flight when it closes, then closes their connections', async () => {
    let answerLater: (result: Authorization) => void = () => {};
    const { server } = await serve({ handler: () => new Promise<Authorization>((resolve) => (answerLater = resolve)) });
    const pending = rawExchange(server.address, [get('/allowed')], { waitMs: 2_000, untilClose: true });
    await expect.poll(() => server.load().connections).toBe(1);
    const closed = server.close(2_000);
    answerLater({ decision: { id: 'a', verdict: 'allow', reason: 'policy_allow', generation: 1 } });
    const answer = await pending;
    expect(answer).toMatchObject({ status: 200, closed: true });
    expect(answer.headers['connection']).toBe('close');
    await closed;
  });
});
