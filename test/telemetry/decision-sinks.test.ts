/**
 * The decision log's off-box sinks against real receivers on 127.0.0.1: OPA's HTTP
 * decision-log upload (gzip JSON arrays) and OTLP/HTTP logs. Every deny arrives exactly once,
 * batches stay within their bounds, a receiver that is down costs allows (counted) and never
 * a deny the buffer could keep, and masked values never leave the process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionLog } from '../../src/telemetry/decision-log.js';
import { OPA_EVENT_PATH } from '../../src/telemetry/decision-sinks/index.js';
import { tempDir } from '../helpers/server-process.js';
import { authorization, recordMany, request, sinkLog } from './decision-sink-fixtures.js';
import { Receiver, waitFor } from './decision-sink-receiver.js';

const receivers: Receiver[] = [];
const logs: DecisionLog[] = [];

async function receiver(): Promise<Receiver> {
  const started = await new Receiver().start();
  receivers.push(started);
  return started;
}

function track(log: DecisionLog): DecisionLog {
  logs.push(log);
  return log;
}

afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close(1_000)));
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

const dropped = (log: DecisionLog, sink: string, reason: string) =>
  log.stats().dropped.find((d) => d.sink === sink && d.reason === reason)?.count ?? 0;

describe('the HTTP decision-log sink (OPA decision-log upload)', () => {
  it('delivers 100,000 decisions, every deny exactly once, in gzip JSON batches within the size and count bounds', async () => {
    const opa = await receiver();
    const maxBytes = 128 * 1024;
    const log = track(
      sinkLog({ sinks: [{ type: 'http', url: `${opa.url}/logs`, batch: { maxLines: 1_000, maxBytes, maxDelayMs: 20 }, buffer: { maxLines: 200_000 } }] }),
    );
    const all = { allows: [] as string[], denies: [] as string[] };
    for (let chunk = 0; chunk < 100; chunk++) {
      const ids = recordMany(log, `c${chunk}`, 1_000, 3);
      all.allows.push(...ids.allows);
      all.denies.push(...ids.denies);
      await new Promise((resolve) => setImmediate(resolve)); // Checks arrive over time, not in one tick
    }
    await opa.until(() => opa.events.length >= 100_000, 60_000);

    const received = opa.events.map((e) => e['decision_id'] as string);
    expect(new Set(received).size).toBe(100_000);
    const deniesReceived = opa.events.filter((e) => (e['result'] as { allowed: boolean }).allowed === false).map((e) => e['decision_id']);
    expect(deniesReceived.sort()).toEqual([...all.denies].sort());
    for (const batch of opa.requests) {
      expect(batch.path).toBe('/logs');
      expect(batch.headers['content-encoding']).toBe('gzip');
      expect(batch.headers['content-type']).toBe('application/json');
      expect(gunzipSync(batch.raw).toString()).toBe(batch.text); // the raw bytes are gzip
      expect(Buffer.byteLength(batch.text)).toBeLessThanOrEqual(maxBytes);
      expect(batch.raw.length).toBeLessThanOrEqual(maxBytes);
      expect((batch.json as unknown[]).length).toBeLessThanOrEqual(1_000);
    }
    // ~700-byte events: 1,000 of them pass 128 KiB, so the byte bound is what cut the batches
    expect(Math.max(...opa.requests.map((r) => (r.json as unknown[]).length))).toBeLessThan(1_000);
    await waitFor(() => log.stats().sinks[0]!.sentLines === 100_000, 5_000, 'every line counted as sent');
    expect(log.stats().sinks).toEqual([expect.objectContaining({ sink: 'http', sentLines: 100_000, failures: 0, buffered: 0 })]);
    expect(log.dropped()).toBe(0);
  }, 90_000);

  it('sends OPA-shaped events: decision_id, timestamp, labels, path, input.attributes, result.allowed', async () => {
    const opa = await receiver();
    const log = track(sinkLog({ headers: ['x-tenant'], sinks: [{ type: 'http', url: `${opa.url}/logs`, labels: { cluster: 'prod-eu' }, batch: { maxDelayMs: 10 } }] }));
    log.record(authorization('dec-opa', 'deny'), request({ requestId: 'req-opa' }), 250e-6);
    await opa.until(() => opa.events.length === 1, 10_000);
    const [event] = opa.events;
    expect(event).toMatchObject({
      decision_id: 'dec-opa',
      path: OPA_EVENT_PATH,
      labels: { app: 'meshwarden', cluster: 'prod-eu', id: expect.any(String), version: expect.any(String) },
      input: {
        attributes: {
          source: { principal: 'spiffe://prod.example/ns/checkout/sa/checkout' },
          destination: { service: 'payments' },
          request: { http: { id: 'req-opa', method: 'POST', path: '/v1/charges', host: 'payments.prod.svc.cluster.local', headers: { 'x-tenant': 'acme' } } },
        },
      },
      result: { allowed: false, decision: 'deny', reason: 'default_deny', generation: 1 },
      metrics: { timer_meshwarden_check_ns: 250_000 },
    });
    expect(new Date(event!['timestamp'] as string).toISOString()).toBe(event!['timestamp']);
  });

  it('keeps every deny through a 10 s outage with a small buffer; allows are dropped and counted by reason', async () => {
    const opa = await receiver();
    const log = track(
      sinkLog({
        sinks: [{ type: 'http', url: `${opa.url}/logs`, batch: { maxLines: 10, maxDelayMs: 20 }, buffer: { maxLines: 40 }, retry: { minDelayMs: 100, maxDelayMs: 1_000 } }],
      }),
    );
    await opa.stop();
    const outageStart = Date.now();
    const all = { allows: [] as string[], denies: [] as string[] };
    // Ten rounds over the real 10 s the receiver is down: 4 denies and 96 allows each.
    for (let round = 0; round < 10; round++) {
      const ids = recordMany(log, `r${round}`, 100, 33);
      all.allows.push(...ids.allows);
      all.denies.push(...ids.denies);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageStart + (round + 1) * 1_000 - Date.now())));
    }
    const during = log.stats().sinks[0]!;
    expect(during.failures).toBeGreaterThan(3); // it kept retrying, with backoff, the whole time
    expect(during.buffered).toBeLessThanOrEqual(40 + 10); // the buffer plus the batch in flight

    await opa.start();
    await opa.until(() => all.denies.every((id) => opa.events.some((e) => e['decision_id'] === id)), 15_000);
    await waitFor(() => log.stats().sinks[0]!.buffered === 0, 5_000, 'buffer empty');

    const ids = opa.events.map((e) => e['decision_id'] as string);
    expect(new Set(ids).size).toBe(ids.length); // nothing twice
    const allowsReceived = ids.filter((id) => all.allows.includes(id)).length;
    const allowsLost = dropped(log, 'http', 'buffer_full') + dropped(log, 'http', 'evicted_by_deny');
    expect(allowsLost).toBe(all.allows.length - allowsReceived);
    expect(dropped(log, 'http', 'buffer_full')).toBeGreaterThan(0);
    expect(dropped(log, 'http', 'evicted_by_deny')).toBeGreaterThan(0);
    expect(log.dropped()).toBe(allowsLost); // no deny among the losses
  }, 40_000);

  it('retries a batch the receiver answers 503, and drops (counted as rejected) one it answers 400', async () => {
    const opa = await receiver();
    const log = track(
      sinkLog({ sinks: [{ type: 'http', url: `${opa.url}/logs`, batch: { maxLines: 5, maxDelayMs: 10 }, retry: { minDelayMs: 20, maxDelayMs: 50 } }] }),
    );
    opa.status = 503;
    recordMany(log, 'busy', 5, 1);
    await opa.until(() => opa.requests.length >= 3, 5_000);
    opa.status = 200;
    await waitFor(() => log.stats().sinks[0]!.sentLines === 5, 5_000, 'batch sent');
    expect(log.stats().sinks[0]!.failures).toBeGreaterThanOrEqual(2);

    opa.status = 400;
    recordMany(log, 'bad', 5, 1);
    await waitFor(() => dropped(log, 'http', 'rejected') === 5, 5_000, 'batch rejected');
    expect(log.stats().sinks[0]!.sentLines).toBe(5);
  });

  it('ships what it holds on close, and counts what it could not ship within the timeout as shutdown', async () => {
    const opa = await receiver();
    const slow = track(sinkLog({ sinks: [{ type: 'http', url: `${opa.url}/logs`, batch: { maxDelayMs: 3_600_000 } }] }));
    recordMany(slow, 'flush', 7, 2);
    await slow.close(5_000);
    expect(opa.events.map((e) => e['decision_id'])).toEqual(['flush-0', 'flush-1', 'flush-2', 'flush-3', 'flush-4', 'flush-5', 'flush-6']);

    await opa.stop();
    const down = track(sinkLog({ sinks: [{ type: 'http', url: `${opa.url}/logs`, batch: { maxDelayMs: 3_600_000 }, retry: { minDelayMs: 50, maxDelayMs: 50 } }] }));
    recordMany(down, 'lost', 4, 2);
    await down.close(300);
    expect(dropped(down, 'http', 'shutdown')).toBe(4);
  });
});

describe('the OTLP decision-log sink', () => {
  it('exports each decision as an OTLP log record with the decision fields as attributes', async () => {
    const otel = await receiver();
    const log = track(sinkLog({ sinks: [{ type: 'otlp', url: `${otel.url}/v1/logs`, batch: { maxDelayMs: 10 } }] }));
    log.record(authorization('dec-otlp-deny', 'deny'), request(), 300e-6);
    log.record(authorization('dec-otlp-allow', 'allow'), request(), 100e-6);
    await waitFor(() => log.stats().sinks[0]!.sentLines === 2, 10_000, 'both records sent');

    expect(otel.requests[0]!.path).toBe('/v1/logs');
    const records = otel.requests.flatMap((r) => otlpRecords(r.json));
    const deny = records.find((r) => r.attributes['decision_id'] === 'dec-otlp-deny');
    expect(deny).toMatchObject({
      severityText: 'WARN',
      attributes: { decision: 'deny', reason: 'default_deny', destination: 'payments', method: 'POST', path: '/v1/charges', latency_us: 300 },
    });
    expect(records.find((r) => r.attributes['decision_id'] === 'dec-otlp-allow')).toMatchObject({ severityText: 'INFO', attributes: { decision: 'allow', policy: 'payments-api' } });
    const resource = (otel.requests[0]!.json as OtlpBody).resourceLogs[0]!.resource.attributes;
    expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'meshwarden' } });
  });
});

describe('a traced Check', () => {
  const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

  it('carries its trace_id and span_id to the HTTP sink and as the OTLP record span context', async () => {
    const opa = await receiver();
    const otel = await receiver();
    const log = track(
      sinkLog({
        sinks: [
          { type: 'http', url: `${opa.url}/logs`, batch: { maxDelayMs: 10 } },
          { type: 'otlp', url: `${otel.url}/v1/logs`, batch: { maxDelayMs: 10 } },
        ],
      }),
    );
    log.record({ ...authorization('dec-traced', 'deny'), trace }, request(), 1e-4);
    await Promise.all([opa.until(() => opa.events.length === 1, 10_000), otel.until(() => otel.requests.length === 1, 10_000)]);
    expect(opa.events[0]).toMatchObject({ trace_id: trace.traceId, span_id: trace.spanId });
    const record = (otel.requests[0]!.json as OtlpBody).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(record).toMatchObject({ traceId: trace.traceId, spanId: trace.spanId });
  });
});

describe('the HTTP sink and redirects', () => {
  it('does not follow a redirect (the lines and credentials would go elsewhere): the batch is rejected, counted', async () => {
    const opa = await receiver();
    const log = track(sinkLog({ sinks: [{ type: 'http', url: `${opa.url}/logs`, headers: { authorization: 'Bearer sink-token' }, batch: { maxDelayMs: 10 } }] }));
    opa.status = 307;
    recordMany(log, 'moved', 3, 1);
    await waitFor(() => dropped(log, 'http', 'rejected') === 3, 5_000, 'batch rejected');
    expect(opa.requests).toHaveLength(1);
    expect(opa.requests[0]!.headers['authorization']).toBe('Bearer sink-token');
  });
});

describe('mask rules', () => {
  it('replace masked values before any output: the file, the HTTP sink and the OTLP sink never receive them', async () => {
    const opa = await receiver();
    const otel = await receiver();
    const file = join(tempDir('meshwarden-mask-'), 'decisions.log');
    const secretKey = 'k-9f8e7d6c5b4a-very-secret';
    const secretPrincipal = 'https://idp.example/alice-private';
    const log = track(
      sinkLog({
        output: file,
        headers: ['x-tenant', 'x-api-key'],
        mask: ['request.headers.x-api-key', 'request_principal'],
        sinks: [
          { type: 'http', url: `${opa.url}/logs`, batch: { maxDelayMs: 10 } },
          { type: 'otlp', url: `${otel.url}/v1/logs`, batch: { maxDelayMs: 10 } },
        ],
      }),
    );
    const result = authorization('dec-mask', 'deny');
    const subject = { ...result.subject, user: { principal: secretPrincipal, issuer: 'https://idp.example', subject: 'alice-private', audiences: [], claims: {} } };
    log.record({ ...result, subject }, request({ headers: new Map([['x-tenant', 'acme'], ['x-api-key', secretKey]]) }), 1e-4);
    await Promise.all([opa.until(() => opa.events.length === 1, 10_000), otel.until(() => otel.requests.length === 1, 10_000)]);
    await log.close(1_000);

    const written = readFileSync(file);
    for (const bytes of [written, ...opa.requests.map((r) => r.raw), ...opa.requests.map((r) => Buffer.from(r.text)), ...otel.requests.map((r) => r.raw)]) {
      expect(bytes.includes(secretKey)).toBe(false);
      expect(bytes.includes(secretPrincipal)).toBe(false);
    }
    expect(JSON.parse(written.toString())).toMatchObject({ headers: { 'x-tenant': 'acme', 'x-api-key': '[masked]' }, request_principal: '[masked]', masked: ['request_principal', 'headers.x-api-key'] });
    expect(opa.events[0]).toMatchObject({
      input: { attributes: { request: { http: { headers: { 'x-api-key': '[masked]' } } } }, request_principal: '[masked]' },
      masked: ['/input/request_principal', '/input/attributes/request/http/headers/x-api-key'],
    });
    expect(otlpRecords(otel.requests[0]!.json)[0]!.attributes).toMatchObject({ 'headers.x-api-key': '[masked]', request_principal: '[masked]' });
  });
});

describe('drop rules', () => {
  it('skip matching lines in every output and count them apart from losses', async () => {
    const opa = await receiver();
    const lines: string[] = [];
    const log = track(
      sinkLog({
        drop: [{ decision: 'allow', pathPrefix: '/healthz' }, { destination: ['metrics-scraper'] }],
        sinks: [{ type: 'http', url: `${opa.url}/logs`, batch: { maxDelayMs: 10 } }],
      }),
    );
    const withStream = track(
      (await import('../../src/telemetry/decision-log.js')).createDecisionLog(
        { allowSampleRate: 1, drop: [{ decision: 'allow', pathPrefix: '/healthz' }] },
        { stream: { write: (line: string) => void lines.push(line) } },
      ),
    );
    for (const target of [log, withStream]) {
      target.record(authorization('health-allow', 'allow'), request({ path: '/healthz/live' }), 1e-4);
      target.record(authorization('health-deny', 'deny'), request({ path: '/healthz/live' }), 1e-4);
      target.record(authorization('scraper', 'allow', 'metrics-scraper'), request(), 1e-4);
      target.record(authorization('charge', 'allow'), request(), 1e-4);
    }
    await opa.until(() => opa.events.length === 2, 10_000);
    expect(opa.events.map((e) => e['decision_id'])).toEqual(['health-deny', 'charge']);
    expect(log.stats().filtered).toBe(2);
    expect(log.dropped()).toBe(0);
    await withStream.flush();
    expect(lines.map((l) => (JSON.parse(l) as { decision_id: string }).decision_id)).toEqual(['health-deny', 'scraper', 'charge']);
  });
});

interface OtlpBody {
  resourceLogs: {
    resource: { attributes: OtlpKeyValue[] };
    scopeLogs: { logRecords: { severityText: string; attributes: OtlpKeyValue[]; traceId?: string; spanId?: string }[] }[];
  }[];
}
interface OtlpKeyValue {
  key: string;
  value: Record<string, unknown>;
}

/** OTLP/JSON log records with their attributes as plain key → value. */
function otlpRecords(json: unknown): { severityText: string; attributes: Record<string, unknown> }[] {
  return (json as OtlpBody).resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) =>
      sl.logRecords.map((r) => ({
        severityText: r.severityText,
        attributes: Object.fromEntries(r.attributes.map(({ key, value }) => [key, plainValue(value)])),
      })),
    ),
  );
}

function plainValue(value: Record<string, unknown>): unknown {
  if ('intValue' in value) return Number(value['intValue']);
  return Object.values(value)[0];
}
