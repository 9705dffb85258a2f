/**
 * What Envoy puts in a Check besides the request line: the request body (`with_request_body`,
 * whole or partial, below and above `max_request_bytes`) and large header sets (90 headers,
 * ~50 KiB, within Envoy's defaults of 100 headers and 60 KiB). meshwarden decides them as the
 * policy says, within its message limit; a request with more headers than meshwarden's own
 * `grpc.limits.headers` but fewer than Envoy's is answered 400 `request_too_large`, never allowed;
 * a body past meshwarden's `grpc.limits.messageBytes` is never allowed either.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, extAuthzFilter, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send } from '../helpers/envoy/http-client.js';
import { startStack, type Stack, type Transport } from '../helpers/envoy/stack.js';
import { TRANSPORTS } from '../helpers/transports.js';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: uploads }
spec:
  target: { services: ["shop"] }
  action: ALLOW
  rules:
    - to: [{ operation: { methods: ["POST"], paths: ["/upload"] } }]
    - to: [{ operation: { methods: ["GET"], paths: ["/headers"] } }]
      when: [{ key: "request.headers[x-h-85]", values: ["needle"] }]
    - to: [{ operation: { methods: ["GET"], paths: ["/few"] } }]
`;

const MAX_REQUEST_BYTES = 4_096;
/** meshwarden's own message limit in the second world, below what Envoy forwards on the `big-body` listener. */
const MESSAGE_BYTES = 64 * 1024;

/** ext_authz with the request body; `raw` sends headers as `header_map` (encode_raw_headers). */
function withBody(maxRequestBytes: number, allowPartial: boolean, raw = false): Record<string, unknown> {
  const filter = extAuthzFilter();
  Object.assign(filter['typed_config'] as Record<string, unknown>, {
    with_request_body: { max_request_bytes: maxRequestBytes, allow_partial_message: allowPartial },
    ...(raw ? { encode_raw_headers: true } : {}),
  });
  return filter;
}

/** The same filter under `failure_mode_allow: true`, which operators of a permissive rollout do set. */
function failOpen(filter: Record<string, unknown>): Record<string, unknown> {
  Object.assign(filter['typed_config'] as Record<string, unknown>, { failure_mode_allow: true });
  return filter;
}

const ROUTES = [{ name: 'shop', match: { prefix: '/' }, service: 'shop' }];

function start(transport: Transport, limits: string): Promise<Stack> {
  return startStack({
    transport,
    meshwardenConfig: `policies: [./policies.yaml]\ngrpc: { limits: ${limits} }`,
    files: { 'policies.yaml': POLICIES },
    envoy: ({ grpc, upstream }) => bootstrap({
      listeners: [
        httpListener({ name: 'whole', routes: ROUTES, filters: [withBody(MAX_REQUEST_BYTES, false)] }),
        httpListener({ name: 'partial', routes: ROUTES, filters: [withBody(MAX_REQUEST_BYTES, true)] }),
        httpListener({ name: 'raw', routes: ROUTES, filters: [withBody(MAX_REQUEST_BYTES, true, true)] }),
        httpListener({ name: 'big-body', routes: ROUTES, filters: [withBody(2 * MESSAGE_BYTES, false)] }),
        httpListener({ name: 'big-body-fail-open', routes: ROUTES, filters: [failOpen(withBody(2 * MESSAGE_BYTES, false))] }),
      ],
      clusters: [appCluster(upstream), meshwardenCluster(grpc)],
    }),
  });
}

/** 90 headers of ~560 bytes (about 50 KiB), `x-h-85` among them with `value85`. */
function largeHeaders(value85: string): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`x-h-${i}`, i === 85 ? value85 : `${i}-`.padEnd(560, 'v')]));
}

describeWithEnvoy.each(TRANSPORTS)('request bodies and large header sets through Envoy (meshwarden on %s)', (transport) => {
  let roomy: Stack;
  let narrow: Stack;

  beforeAll(async () => {
    [roomy, narrow] = await Promise.all([
      start(transport, `{ messageBytes: ${MESSAGE_BYTES} }`),
      start(transport, '{ headers: 50 }'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([roomy?.stop(), narrow?.stop()]);
  });

  it('decides a request whose body fits max_request_bytes, whole or partial, and forwards the whole body', async () => {
    for (const listener of ['whole', 'partial', 'raw']) {
      const body = 'b'.repeat(MAX_REQUEST_BYTES - 96);
      const answer = await send(roomy.port(listener), '/upload', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      expect(answer.status, listener).toBe(200);
      expect(roomy.upstream.requests.at(-1)?.headers['content-length']).toBe(String(body.length));
      expect((await send(roomy.port(listener), '/elsewhere', { method: 'POST', body })).status, listener).toBe(403);
    }
  });

  it('refuses a body past max_request_bytes with 413 when partial messages are off (Envoy, meshwarden never asked)', async () => {
    const before = roomy.upstream.requests.length;
    const answer = await send(roomy.port('whole'), '/upload', { method: 'POST', body: 'b'.repeat(MAX_REQUEST_BYTES * 3) });
    expect(answer.status).toBe(413);
    expect(roomy.upstream.requests).toHaveLength(before);
  });

  it('decides on the first max_request_bytes of a larger body when partial messages are on', async () => {
    for (const listener of ['partial', 'raw']) {
      const body = 'b'.repeat(MAX_REQUEST_BYTES * 3);
      expect((await send(roomy.port(listener), '/upload', { method: 'POST', body })).status, listener).toBe(200);
      expect(roomy.upstream.requests.at(-1)?.headers['content-length']).toBe(String(body.length));
      expect((await send(roomy.port(listener), '/elsewhere', { method: 'POST', body })).status, listener).toBe(403);
    }
  });

  it('never allows a body past meshwarden\'s own message limit (grpc.limits.messageBytes)', async () => {
    const before = roomy.upstream.requests.length;
    const answer = await send(roomy.port('big-body'), '/upload', { method: 'POST', body: 'b'.repeat(MESSAGE_BYTES + 1_024) });
    // denied with a 400 CheckResponse, on both transports
    expect(answer.status).toBe(400);
    expect(roomy.upstream.requests).toHaveLength(before);
    // and just below it, the same listener decides
    expect((await send(roomy.port('big-body'), '/upload', { method: 'POST', body: 'b'.repeat(MESSAGE_BYTES - 8_192) })).status).toBe(200);
  });

  // A gRPC error is what Envoy counts as ext_authz_error, which failure_mode_allow: true lets through to
  // the workload: both transports answer an oversized message with a 400 CheckResponse instead (on
  // grpc-js through server/grpc-js/body-guard.ts, as grpc-js refuses it before any handler runs).
  it('never allows a body past messageBytes, even where Envoy fails open (failure_mode_allow: true)', async () => {
    const before = roomy.upstream.requests.length;
    const answer = await send(roomy.port('big-body-fail-open'), '/upload', { method: 'POST', body: 'b'.repeat(MESSAGE_BYTES + 1_024) });
    expect(answer.status).toBe(400);
    expect(roomy.upstream.requests).toHaveLength(before);
  });

  it('decides on a header deep in a set of 90 headers and ~50 KiB, as headers and as header_map', async () => {
    for (const listener of ['partial', 'raw']) {
      const allowed = await send(roomy.port(listener), '/headers', { headers: largeHeaders('needle') });
      expect(allowed.status, listener).toBe(200);
      expect(Object.keys(allowed.json()['headers'] as object).filter((name) => name.startsWith('x-h-'))).toHaveLength(90);
      expect((await send(roomy.port(listener), '/headers', { headers: largeHeaders('haystack') })).status, listener).toBe(403);
    }
  });

  it('answers 400 request_too_large, never an allow, to more headers than grpc.limits.headers (50) but fewer than Envoy\'s 100', async () => {
    const headers = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`x-f-${i}`, 'v']));
    for (const listener of ['partial', 'raw']) {
      const before = narrow.upstream.requests.length;
      const answer = await send(narrow.port(listener), '/few', { headers });
      expect(answer.status, listener).toBe(400);
      expect(narrow.upstream.requests).toHaveLength(before);
      expect((await send(narrow.port(listener), '/few')).status, listener).toBe(200);
    }
    const log = await narrow.envoy.accessLog(4);
    expect(log.filter((line) => line['status'] === 400).map((line) => line['reason'])).toEqual(['request_too_large', 'request_too_large']);
    expect(narrow.meshwarden.decisions.filter((d) => d['reason'] === 'request_too_large')).toHaveLength(2);
  });
});
