/**
 * Spans leave on shutdown, and a collector cannot hold a shutdown: what is batched is exported
 * when tracing shuts down, and a collector that takes the export but never answers is given up
 * on at the drain timeout; a refused export is told. A root Check sampled out leaves no span
 * and no trace ids.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Authorization } from '../../src/domain/index.js';
import { startTracing } from '../../src/telemetry/tracing/start-tracing.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';

const allow: Authorization = { decision: { id: 'd-1', verdict: 'allow', reason: 'policy_allow', generation: 1 } };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const options = (endpoint: string, sampleRate = 1) => ({ otlp: { endpoint, headers: {}, timeoutMs: 10_000 }, sampleRate, parentBased: true });

describe('tracing at shutdown', () => {
  it('exports the spans still batched (the batch delay is far off)', async () => {
    const receiver = await OtlpReceiver.start();
    closers.push(() => receiver.close());
    const running = startTracing(options(receiver.url), { scheduledDelayMs: 60_000 });
    const span = running.tracing.begin(undefined, undefined, performance.now());
    const ended = span!.end(allow);
    expect(receiver.spans).toEqual([]);
    await running.shutdown(5_000);
    expect(receiver.spans.map((s) => s.spanId)).toEqual([ended.trace!.spanId]);
  });

  it('gives up on a collector that never answers at the timeout it is given', async () => {
    const held: ServerResponse[] = [];
    const collector = createServer((_request: IncomingMessage, response: ServerResponse) => void held.push(response));
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    closers.push(async () => {
      collector.closeAllConnections();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    });
    const arrived = once(collector, 'request');
    const running = startTracing(options(`http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`), { scheduledDelayMs: 60_000 });
    running.tracing.begin(undefined, undefined, performance.now())!.end(allow);
    await Promise.all([running.shutdown(300), arrived]);
    expect(held).toHaveLength(1); // the export reached the collector and was never answered, yet shutdown returned
  });

  it('tells of an export the collector refused, with its cause and nothing of the spans', async () => {
    const collector = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      request.on('end', () => response.writeHead(400, { 'content-type': 'text/plain' }).end('no'));
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    closers.push(async () => {
      collector.closeAllConnections();
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    });
    const causes: (string | undefined)[] = [];
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const running = startTracing(options(url), { scheduledDelayMs: 60_000 }, { onExport: (cause) => causes.push(cause) });
    running.tracing.begin(undefined, undefined, performance.now())!.end(allow);
    await running.shutdown(5_000);
    expect(causes).toHaveLength(1);
    expect(causes[0]).toEqual(expect.any(String));
    expect(causes[0]).not.toContain('d-1');
  });

  it('records nothing for a root Check that is sampled out, and gives it no trace ids', async () => {
    const receiver = await OtlpReceiver.start();
    closers.push(() => receiver.close());
    const running = startTracing(options(receiver.url, 0));
    expect(running.tracing.begin(undefined, undefined, performance.now())).toBeUndefined();
    await running.shutdown(5_000);
    expect(receiver.spans).toEqual([]);
  });
});
