/**
 * An internal CA for collectors over https: the HTTP decision-log sink, the OTLP logs sink and
 * the trace exporter each reach a real https receiver on 127.0.0.1 whose certificate a test CA
 * signed, when given that CA as `caFile`; without it the TLS handshake fails, and that is a
 * counted send failure that neither throws nor holds a Check. A wrong caFile stops the start
 * naming the option and the path.
 */
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { parseConfigText } from '../../src/config/load.js';
import type { Authorization } from '../../src/domain/index.js';
import type { DecisionLog } from '../../src/telemetry/decision-log.js';
import { resolveSinkOptions, type DecisionSinkOptions } from '../../src/telemetry/decision-sinks/index.js';
import { TelemetryOptionError } from '../../src/telemetry/index.js';
import { startTracing } from '../../src/telemetry/tracing/start-tracing.js';
import { TestPki, type Issuer } from '../identity/helpers/pki.js';
import { recordMany, sinkLog } from './decision-sink-fixtures.js';
import { waitFor } from './decision-sink-receiver.js';

/** An https collector on 127.0.0.1 with a certificate `ca` signed: keeps each request's path and body. */
class HttpsCollector {
  readonly received: { path: string; body: string }[] = [];
  readonly #server: Server;

  constructor(pki: TestPki, ca: Issuer) {
    const cert = pki.leaf('collector', ca, { extra: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
    const key = readFileSync(join(pki.dir, 'collector.key'));
    this.#server = createServer({ cert, key }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        this.received.push({ path: request.url ?? '', body: body.toString('utf8') });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  async start(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  url(path: string): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

let pki: TestPki;
let caFile: string;
let collector: HttpsCollector;
const logs: DecisionLog[] = [];

beforeAll(async () => {
  pki = new TestPki();
  const ca = pki.root('collector-ca', 'collectors.example');
  caFile = ca.certPath;
  collector = await new HttpsCollector(pki, ca).start();
});

afterAll(async () => {
  await collector?.close();
});

afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close(1_000)));
});

const quick = { batch: { maxLines: 10, maxDelayMs: 10 }, retry: { minDelayMs: 20, maxDelayMs: 50 }, timeoutMs: 2_000 };

function logTo(sink: DecisionSinkOptions): DecisionLog {
  const log = sinkLog({ sinks: [sink] });
  logs.push(log);
  return log;
}

const sinkStats = (log: DecisionLog) => log.stats().sinks[0]!;
const arrivedAt = (path: string) => collector.received.filter((r) => r.path === path);

describe.each([
  { type: 'http' as const, path: '/logs' },
  { type: 'otlp' as const, path: '/v1/logs' },
])('the $type decision-log sink to an https collector', ({ type, path }) => {
  it('delivers every line when the collector is verified against caFile', async () => {
    const log = logTo({ type, url: collector.url(path), caFile, ...quick });
    const { allows, denies } = recordMany(log, `${type}-ca`, 6, 2);
    await waitFor(() => sinkStats(log).sentLines === 6, 10_000, 'six lines sent');
    const bodies = arrivedAt(path).map((r) => r.body).join('\n');
    for (const id of [...allows, ...denies]) expect(bodies).toContain(id);
    expect(sinkStats(log).failures).toBe(0);
  });

  it('fails the TLS handshake without caFile: a counted, retried failure, the lines kept and never delivered', async () => {
    const before = arrivedAt(path).length;
    const log = logTo({ type, url: collector.url(path), ...quick });
    recordMany(log, `${type}-no-ca`, 4, 2); // synchronous: recording only buffers, nothing waits on the handshake
    expect(sinkStats(log)).toMatchObject({ buffered: 4, failures: 0 });
    await waitFor(() => sinkStats(log).failures >= 2, 10_000, 'two failed sends');
    expect(sinkStats(log)).toMatchObject({ sentLines: 0, buffered: 4 });
    expect(arrivedAt(path).length).toBe(before);
  });
});

describe('the trace exporter to an https collector', () => {
  const allow: Authorization = { decision: { id: 'd-1', verdict: 'allow', reason: 'policy_allow', generation: 1 } };
  const tracingTo = (extra: { caFile?: string }, onExport?: (cause: string | undefined) => void) =>
    startTracing(
      { otlp: { endpoint: collector.url('/v1/traces'), headers: {}, timeoutMs: 2_000, ...extra }, sampleRate: 1, parentBased: true },
      { scheduledDelayMs: 60_000 },
      onExport === undefined ? {} : { onExport },
    );

  it('exports the spans when the collector is verified against caFile', async () => {
    const running = tracingTo({ caFile });
    const span = running.tracing.begin(undefined, undefined, performance.now())!.end(allow);
    await running.shutdown(5_000);
    expect(arrivedAt('/v1/traces').map((r) => r.body).join('\n')).toContain(span.trace!.spanId);
    expect(running.counts()).toEqual({ exported: 1, dropped: { queue_full: 0, export_failed: 0 } });
  });

  it('fails the TLS handshake without caFile: the spans counted as export_failed and the failure told', async () => {
    const before = arrivedAt('/v1/traces').length;
    const causes: (string | undefined)[] = [];
    const running = tracingTo({}, (cause) => causes.push(cause));
    running.tracing.begin(undefined, undefined, performance.now())!.end(allow);
    await running.shutdown(5_000);
    expect(running.counts()).toEqual({ exported: 0, dropped: { queue_full: 0, export_failed: 1 } });
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatch(/certificate/i); // the handshake's own complaint: the collector's issuer is unknown
    expect(arrivedAt('/v1/traces').length).toBe(before);
  });
});

describe('a caFile that cannot serve', () => {
  const failure = (work: () => unknown): TelemetryOptionError => {
    try {
      work();
    } catch (error) {
      if (error instanceof TelemetryOptionError) return error;
      throw error;
    }
    throw new Error('did not throw');
  };
  const sinkWith = (ca: string, url = 'https://127.0.0.1:1/logs') => () => resolveSinkOptions([{ type: 'http', url, caFile: ca }]);

  it.each([
    ['a missing file', () => join(pki.dir, 'absent.pem'), /decisionLog\.sinks\[0\]\.caFile: cannot read .*absent\.pem \(ENOENT\)/],
    ['a file without a certificate', () => writeFile('key-only.pem', readFileSync(join(pki.dir, 'collector.key'), 'utf8')), /decisionLog\.sinks\[0\]\.caFile: .*key-only\.pem holds no PEM certificate/],
    ['a damaged certificate', () => writeFile('damaged.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /caFile: .*damaged\.pem: certificate 1 is not a valid X\.509 certificate/],
  ])('stops a sink with %s, naming the option and the path', (_, file, message) => {
    const error = failure(sinkWith(file()));
    expect(error.code).toBe('ERR_TELEMETRY_CA');
    expect(error.message).toMatch(message);
  });

  it('is refused on an http:// url, which it could not verify', () => {
    expect(failure(sinkWith(caFile, 'http://127.0.0.1:1/logs')).message).toMatch(/decisionLog\.sinks\[0\]\.caFile: verifies an https:\/\/ url/);
  });

  it('stops tracing naming tracing.otlp.caFile and the path', () => {
    const absent = join(pki.dir, 'absent-too.pem');
    const start = () => startTracing({ otlp: { endpoint: 'https://127.0.0.1:1/v1/traces', headers: {}, timeoutMs: 1_000, caFile: absent }, sampleRate: 1, parentBased: true });
    expect(failure(start).message).toBe(`tracing.otlp.caFile: cannot read ${absent} (ENOENT)`);
  });
});

describe('caFile in the config file', () => {
  it('is resolved from the config file\'s directory, for each sink and for tracing', () => {
    const raw = parseConfigText(
      [
        'decisionLog: { sinks: [{ type: http, url: "https://collector:8181/logs", caFile: ca/internal.pem }] }',
        'tracing: { otlp: { endpoint: "https://collector:4318/v1/traces", caFile: /etc/ca/internal.pem } }',
        '',
      ].join('\n'),
      'meshwarden.yaml',
    );
    const config = buildConfig(raw, '/etc/meshwarden');
    expect(config.decisionLog.sinks[0]?.caFile).toBe('/etc/meshwarden/ca/internal.pem');
    expect(config.tracing?.otlp.caFile).toBe('/etc/ca/internal.pem');
  });

  it('is absent unless given', () => {
    const raw = parseConfigText('decisionLog: { sinks: [{ type: http, url: "https://collector:8181/logs" }] }\ntracing: { otlp: { endpoint: "https://c/v1/traces" } }\n', 'm.yaml');
    const config = buildConfig(raw, '/etc/meshwarden');
    expect(config.decisionLog.sinks[0]).not.toHaveProperty('caFile');
    expect(config.tracing?.otlp).not.toHaveProperty('caFile');
  });
});

function writeFile(name: string, text: string): string {
  const path = join(pki.dir, name);
  writeFileSync(path, text);
  return path;
}
