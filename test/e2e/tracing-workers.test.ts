/**
 * Traces under `serve --workers 2`, as real processes: each worker loads its own tracer and
 * exporter, every Check it serves becomes a span under the traceparent the Check carried, and
 * SIGTERM to the primary flushes every worker's spans to the collector before the process exits.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { parseExposition, seriesOf } from '../telemetry/exposition.js';
import { BATCH, CART, ordersAllowing } from '../helpers/orders-policy.js';

const CHECKS = 12;
const CHECK_SPAN = 'meshwarden.check';

interface Sent {
  readonly traceId: string;
  readonly spanId: string;
  readonly verdict: unknown;
}

let receiver: OtlpReceiver;
let server: ServerProcess;
let exitCode: number | null;
const sent: Sent[] = [];
let checksByWorker: number[] = [];
let droppedSeries: number[] = [];

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  const dir = tempDir('meshwarden-tracing-workers-');
  writeFileSync(join(dir, 'orders.yaml'), ordersAllowing(CART));
  server = await startServer({
    configDir: dir,
    configText: [
      'policies: [./orders.yaml]',
      'reload: { watch: false }',
      'decisionLog: { output: off }',
      `tracing: { otlp: { endpoint: "${receiver.url}", timeout: 5s }, sampleRate: 0 }`,
      'shutdown: { drainTimeout: 5s }',
    ].join('\n'),
    args: ['--workers', '2'],
  });
  // a client per Check, each its own connection, so the kernel spreads them over both workers
  await Promise.all(Array.from({ length: CHECKS }, (_, i) => checkWithParent(i % 3 === 0 ? BATCH : CART)));
  const metrics = parseExposition(await (await fetch(`http://${server.admin}/metrics`)).text());
  checksByWorker = seriesOf(metrics, 'meshwarden_worker_checks_total').map((sample) => sample.value);
  droppedSeries = seriesOf(metrics, 'meshwarden_trace_spans_dropped_total').map((sample) => sample.value);
  exitCode = await server.stop('SIGTERM');
}, 30_000);

afterAll(async () => {
  await server?.stop('SIGKILL');
  await receiver?.close();
});

async function checkWithParent(principal: string): Promise<void> {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const client = new CheckClient(server.grpc, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 }, deadlineMs: 5_000 });
  try {
    const request = httpCheck({ principal, path: '/orders/1', service: 'orders', headers: { traceparent: `00-${traceId}-${spanId}-01` } });
    const answer = await client.check(request);
    sent.push({ traceId, spanId, verdict: structToJson(answer.dynamicMetadata)['decision'] });
  } finally {
    client.close();
  }
}

const checkSpansOf = (traceId: string): ReceivedSpan[] => receiver.spansOf(traceId).filter((span) => span.name === CHECK_SPAN);

describe('tracing with two workers', () => {
  it('serves the Checks on both workers', () => {
    expect(checksByWorker).toHaveLength(2);
    for (const count of checksByWorker) expect(count).toBeGreaterThan(0);
    expect(checksByWorker.reduce((a, b) => a + b, 0)).toBe(CHECKS);
  });

  it("exports every worker's spans by the time SIGTERM has stopped the primary, which exits 0", () => {
    expect(exitCode).toBe(0);
    expect(sent).toHaveLength(CHECKS);
    for (const { traceId } of sent) expect(checkSpansOf(traceId), `spans of trace ${traceId}`).toHaveLength(1);
  });

  it('makes each span the child of the sampled parent its Check carried, though roots here are never sampled', () => {
    for (const { traceId, spanId } of sent) expect(checkSpansOf(traceId)[0]?.parentSpanId).toBe(spanId);
  });

  it("counts the workers' lost spans on the primary's /metrics: none here", () => {
    expect(droppedSeries).toEqual([0, 0]); // queue_full and export_failed, summed over the workers
  });

  it("says each Check's decision, as the Check's answer said it", () => {
    for (const { traceId, verdict } of sent) {
      expect(checkSpansOf(traceId)[0]?.attributes).toMatchObject({ 'meshwarden.decision': verdict, 'meshwarden.destination': 'orders' });
    }
    expect(new Set(sent.map((s) => s.verdict))).toEqual(new Set(['allow', 'deny']));
  });
});
