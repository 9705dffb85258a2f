/**
 * Traces of Checks, end to end in one process: a real runtime on each gRPC transport (and
 * Envoy's HTTP service), exporting with the OpenTelemetry SDK to an OTLP/HTTP receiver on
 * loopback. Spans leave on shutdown (the flush SIGTERM runs), so every test here reads what
 * the receiver got after the runtime stopped.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildConfig, type RawConfig } from '../../src/config/build.js';
import { startRuntime, type Runtime } from '../../src/server/runtime.js';
import { CHECK_SPAN_NAME, KEY_SET_FETCH_SPAN_NAME, VERIFICATION_SPAN_NAME } from '../../src/telemetry/index.js';
import { rawClient, type RawClient } from '../helpers/check-client.js';
import { CART, checkWith, createIdentityWorld, userToken, type IdentityWorld } from '../helpers/identity-fixtures.js';
import { encodeOfficial } from '../helpers/official-protos.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { TRANSPORTS } from '../helpers/transports.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const context = (sampled = true) => ({ traceId: hex(16), spanId: hex(8), flags: sampled ? '01' : '00' });
type Context = ReturnType<typeof context>;
const traceparent = (c: Context) => `00-${c.traceId}-${c.spanId}-${c.flags}`;

interface Line {
  decision_id: string;
  trace_id?: string;
  span_id?: string;
}

describe.each(TRANSPORTS)('tracing on the %s transport', (transport) => {
  let world: IdentityWorld;
  let receiver: OtlpReceiver;
  let runtime: Runtime;
  let client: RawClient;
  const logFile = () => join(world.dir, 'decisions.log');

  const check = (request: Record<string, unknown>, metadata: Record<string, string> = {}): Promise<Buffer> => {
    const meta = new Metadata();
    for (const [key, value] of Object.entries(metadata)) meta.set(key, value);
    const bytes = encodeOfficial('envoy.service.auth.v3.CheckRequest', request);
    const call = client.Check as unknown as (b: Buffer, m: Metadata, cb: (e: Error | null, r?: Buffer) => void) => void;
    return new Promise((resolve, reject) => call.call(client, bytes, meta, (error, answer) => (error || !answer ? reject(error ?? new Error('no answer')) : resolve(answer))));
  };
  const order = (headers: Record<string, string> = {}) => {
    const request = checkWith({ service: 'orders', path: '/orders/7', principal: CART }) as { attributes: { request: { http: { headers: Record<string, string> } } } };
    Object.assign(request.attributes.request.http.headers, headers);
    return request;
  };
  const profile = (token: string, headers: Record<string, string> = {}) => {
    const request = checkWith({ service: 'profile', path: '/me', token }) as { attributes: { request: { http: { headers: Record<string, string> } } } };
    Object.assign(request.attributes.request.http.headers, headers);
    return request;
  };

  const inMetadata = context();
  const inHeaders = context();
  const overridden = context();
  const metadataWins = context();
  const stated = context();
  const sampledOut = context(false);
  const overHttp = context();
  const withToken = context();
  const sameToken = context();
  let token = '';

  beforeAll(async () => {
    world = await createIdentityWorld();
    receiver = await OtlpReceiver.start();
    const raw = parseYaml(world.configText()) as RawConfig;
    const config = buildConfig(
      {
        ...raw,
        grpc: { address: '127.0.0.1:0', transport },
        http: { address: '127.0.0.1:0' },
        admin: { address: 'off' },
        reload: { watch: false },
        decisionLog: { output: 'decisions.log', allowSampleRate: 1 },
        tracing: { otlp: { endpoint: receiver.url, timeout: '5s' }, sampleRate: 1 },
      },
      world.dir,
    );
    runtime = await startRuntime(config, pino({ enabled: false }));
    client = rawClient(runtime.grpcAddress);
    token = await userToken(world.idpKey, { scope: 'profile:read' });

    await check(order(), { traceparent: traceparent(inMetadata) });
    await check(order({ traceparent: traceparent(inHeaders) }));
    await check(order({ traceparent: traceparent(overridden) }), { traceparent: traceparent(metadataWins) });
    await check(order(), { traceparent: traceparent(stated), tracestate: 'envoy=1,vendor=abc' });
    await check(order(), { traceparent: traceparent(sampledOut) });
    await check(profile(token), { traceparent: traceparent(withToken) });
    await check(profile(token), { traceparent: traceparent(sameToken) });
    const answer = await fetch(`http://${runtime.httpAddress}/orders/7`, {
      headers: { traceparent: traceparent(overHttp), 'x-meshwarden-context-service': 'orders' },
    });
    await answer.arrayBuffer();
    client.close();
    await runtime.shutdown();
  }, 30_000);

  afterAll(async () => {
    await receiver?.close();
    await world?.close();
  });

  const checkSpanOf = (c: Context): ReceivedSpan => {
    const spans = receiver.spansOf(c.traceId).filter((span) => span.name === CHECK_SPAN_NAME);
    expect(spans).toHaveLength(1);
    return spans[0]!;
  };
  const lines = (): Line[] => readFileSync(logFile(), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Line);

  it('continues the trace whose traceparent came in the call metadata, as a child of that span', () => {
    const span = checkSpanOf(inMetadata);
    expect(span.parentSpanId).toBe(inMetadata.spanId);
    expect(span.service).toBe('meshwarden');
    expect(span.kind).toBe(2); // SERVER, in OTLP's numbering (SpanKind + 1)
  });

  it("continues the trace whose traceparent came in the request's headers when the metadata has none", () => {
    expect(checkSpanOf(inHeaders).parentSpanId).toBe(inHeaders.spanId);
  });

  it("prefers the metadata (Envoy's ext_authz span) to the request's own traceparent", () => {
    expect(receiver.spansOf(overridden.traceId)).toEqual([]);
    expect(checkSpanOf(metadataWins).parentSpanId).toBe(metadataWins.spanId);
  });

  it('carries the tracestate on', () => {
    expect(checkSpanOf(stated).traceState).toBe('envoy=1,vendor=abc');
  });

  it('records no span under a parent that was sampled out', () => {
    expect(receiver.spansOf(sampledOut.traceId)).toEqual([]);
  });

  it('continues the traceparent of a Check over Envoy\'s HTTP service', () => {
    expect(checkSpanOf(overHttp).parentSpanId).toBe(overHttp.spanId);
  });

  it('says the decision, its reason, policy, rule, destination and source principal', () => {
    expect(checkSpanOf(inHeaders).attributes).toMatchObject({
      'meshwarden.decision': 'allow',
      'meshwarden.reason': 'policy_allow',
      'meshwarden.policy': 'orders-from-cart',
      'meshwarden.rule': 0,
      'meshwarden.destination': 'orders',
      'meshwarden.source_principal': CART,
    });
  });

  it('exports no token, no header value and no path', () => {
    const [, , signature] = token.split('.');
    for (const body of receiver.bodies) {
      expect(body).not.toContain(signature);
      expect(body).not.toContain(token.slice(0, 40));
      expect(body).not.toContain('/orders/7');
      expect(body).not.toContain('Bearer');
    }
    expect(receiver.bodies.length).toBeGreaterThan(0);
  });

  it('draws the verification and the key-set fetch of a token the cache missed under the Check span', () => {
    const check = checkSpanOf(withToken);
    const children = receiver.spansOf(withToken.traceId).filter((span) => span.parentSpanId === check.spanId);
    expect(children.map((span) => span.name).sort()).toEqual([KEY_SET_FETCH_SPAN_NAME, VERIFICATION_SPAN_NAME].sort());
    expect(children.find((span) => span.name === VERIFICATION_SPAN_NAME)?.attributes['meshwarden.credential.kind']).toBe('oidc');
    expect(check.attributes['meshwarden.decision']).toBe('allow');
  });

  it('draws no identity span for a token the cache already holds', () => {
    const check = checkSpanOf(sameToken);
    expect(receiver.spansOf(sameToken.traceId).filter((span) => span.spanId !== check.spanId)).toEqual([]);
  });

  it("logs each traced decision with its trace id and the span it is under, and a sampled-out one with its parent's", () => {
    const byTrace = new Map(lines().filter((line) => line.trace_id).map((line) => [line.trace_id, line]));
    const span = checkSpanOf(inHeaders);
    expect(byTrace.get(inHeaders.traceId)?.span_id).toBe(span.spanId);
    expect(byTrace.get(sampledOut.traceId)?.span_id).toBe(sampledOut.spanId);
  });
});
