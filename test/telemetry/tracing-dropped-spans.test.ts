/**
 * Spans that never reach the collector are counted, not lost in silence: past the batch queue
 * (made tiny here) behind a collector that holds its exports, and in exports the collector
 * refuses. Ending a span stays synchronous while the collector holds everything. The metrics
 * that say so exist only when tracing is on.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { parseConfigText } from '../../src/config/load.js';
import type { Authorization } from '../../src/domain/index.js';
import { createTelemetry } from '../../src/server/telemetry-wiring.js';
import { registerTraceMetrics } from '../../src/telemetry/index.js';
import { startTracing, type RunningTracing } from '../../src/telemetry/tracing/start-tracing.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { parseExposition, sampleValue } from './exposition.js';

const allow: Authorization = { decision: { id: 'd-1', verdict: 'allow', reason: 'policy_allow', generation: 1 } };
const options = (endpoint: string) => ({ otlp: { endpoint, headers: {}, timeoutMs: 10_000 }, sampleRate: 1, parentBased: true });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A collector that answers `status` to every export, and holds its answers while `holding`. */
class Collector {
  holding = false;
  readonly exports: ServerResponse[] = [];
  /** Resolves when the first export has arrived. */
  readonly firstExport: Promise<void>;
  #arrived: () => void = () => {};
  readonly #held: (() => void)[] = [];
  readonly #server: Server;

  constructor(status = 200) {
    this.firstExport = new Promise((resolve) => (this.#arrived = resolve));
    this.#server = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      request.on('end', () => {
        this.exports.push(response);
        this.#arrived();
        const answer = () => response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        if (this.holding) this.#held.push(answer);
        else answer();
      });
    });
  }

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    closers.push(() => this.close());
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  release(): void {
    this.holding = false;
    for (const answer of this.#held.splice(0)) answer();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const endSpans = (running: RunningTracing, count: number): void => {
  for (let i = 0; i < count; i++) running.tracing.begin(undefined, undefined, performance.now())!.end(allow);
};

async function scrape(counts: RunningTracing['counts']) {
  const registry = new Registry();
  registerTraceMetrics(registry, counts);
  return parseExposition(await registry.metrics());
}

describe('spans past the batch queue', () => {
  it('are counted as queue_full while a slow collector holds the export in flight, and the rest are exported', async () => {
    const collector = new Collector();
    collector.holding = true;
    const url = await collector.start();
    const running = startTracing(options(url), { scheduledDelayMs: 60_000, maxQueueSize: 4 });

    endSpans(running, 4); // a full queue is one batch: it leaves at once, and the collector holds it
    await collector.firstExport;
    endSpans(running, 16); // 4 wait in the queue, 12 find it full
    expect(running.counts()).toEqual({ exported: 0, dropped: { queue_full: 12, export_failed: 0 } });

    collector.release();
    await running.shutdown(5_000);
    expect(running.counts()).toEqual({ exported: 8, dropped: { queue_full: 12, export_failed: 0 } });
    const metrics = await scrape(running.counts);
    expect(sampleValue(metrics, 'meshwarden_trace_spans_dropped_total', { reason: 'queue_full' })).toBe(12);
    expect(sampleValue(metrics, 'meshwarden_trace_spans_exported_total', {})).toBe(8);
  });

  it('never holds the span that ends: a thousand end while the collector holds every export', async () => {
    const collector = new Collector();
    collector.holding = true;
    const running = startTracing(options(await collector.start()), { scheduledDelayMs: 60_000, maxQueueSize: 4 });
    let answered = 0;
    for (let i = 0; i < 1_000; i++) {
      running.tracing.begin(undefined, undefined, performance.now())!.end(allow);
      answered += 1; // reached synchronously: nothing above waited on the collector
    }
    expect(answered).toBe(1_000);
    expect(running.counts().dropped.queue_full).toBe(1_000 - 8);
    collector.release();
    await running.shutdown(5_000);
  });
});

describe('spans of a refused export', () => {
  it('are counted as export_failed, none as exported', async () => {
    const url = await new Collector(400).start();
    const running = startTracing(options(url), { scheduledDelayMs: 60_000 });
    endSpans(running, 3);
    await running.shutdown(5_000);
    expect(running.counts()).toEqual({ exported: 0, dropped: { queue_full: 0, export_failed: 3 } });
  });
});

describe('the tracing metrics', () => {
  const telemetryWith = async (tracing: string) => {
    const receiver = await OtlpReceiver.start();
    closers.push(() => receiver.close());
    const raw = parseConfigText(`policies: []\ndecisionLog: { output: off }\n${tracing.replace('URL', receiver.url)}`, 'meshwarden.yaml');
    const telemetry = await createTelemetry(buildConfig(raw, '/'), pino({ enabled: false }));
    closers.push(() => telemetry.close());
    return telemetry.metrics.exposition();
  };

  it('are registered when tracing is on', async () => {
    const text = await telemetryWith('tracing: { otlp: { endpoint: "URL" } }\n');
    expect(text).toContain('meshwarden_trace_spans_dropped_total{reason="queue_full"} 0');
    expect(text).toContain('meshwarden_trace_spans_exported_total 0');
  });

  it('are absent when tracing is off', async () => {
    expect(await telemetryWith('')).not.toContain('meshwarden_trace_spans');
  });
});
