/**
 * `meshwarden serve` as a real process with an HTTP decision-log sink. With a batch delay of
 * an hour nothing leaves before SIGTERM, and SIGTERM ships every decision line within the
 * drain timeout before the process exits 0. With the receiver down, every Check is still
 * answered, the losses are counted, and SIGTERM gives up after the drain timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { closedLoopbackPort, Receiver } from '../telemetry/decision-sink-receiver.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const BATCH = 'spiffe://prod.example/ns/checkout/sa/batch';

let opa: Receiver;
let server: ServerProcess;
let client: CheckClient;

beforeAll(async () => {
  opa = await new Receiver().start();
  server = await startServer({
    configText: [
      `policies: ["${process.cwd()}/examples/policies"]`,
      'decisionLog:',
      '  output: off',
      '  allowSampleRate: 1',
      `  sinks: [{ type: http, name: opa, url: "${opa.url}/logs", batch: { maxLines: 10000, maxDelay: 1h } }]`,
      'shutdown: { drainTimeout: 5s }',
    ].join('\n'),
  });
  client = new CheckClient(server.grpc);
});

afterAll(async () => {
  client?.close();
  await server?.stop('SIGKILL');
  await opa?.stop();
});

describe('meshwarden serve with an HTTP decision-log sink', () => {
  it('ships every buffered decision line on SIGTERM, then exits 0', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const principal = i % 2 === 0 ? CHECKOUT : BATCH; // checkout is allowed, batch is denied
      const answer = await client.check(httpCheck({ principal, method: 'POST', path: '/v1/charges', service: 'payments' }));
      ids.push(String(structToJson(answer.dynamicMetadata)['decision_id']));
    }
    const metrics = await (await fetch(`http://${server.admin}/metrics`)).text();
    expect(metrics).toMatch(/meshwarden_decision_log_buffered_lines\{sink="opa"\} 30/);
    expect(opa.requests).toHaveLength(0); // an hour's batch delay: nothing has left yet

    client.close();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(opa.events.map((e) => e['decision_id']).sort()).toEqual([...ids].sort());
    expect(opa.events.filter((e) => (e['result'] as { allowed: boolean }).allowed === false)).toHaveLength(15);
  }, 30_000);
});

describe('meshwarden serve with its decision-log receiver down', () => {
  it('answers every Check, counts the allows it drops and the failed sends, and exits 0 after the drain timeout', async () => {
    const port = await closedLoopbackPort();
    const down = await startServer({
      configText: [
        `policies: ["${process.cwd()}/examples/policies"]`,
        'decisionLog:',
        '  output: off',
        '  allowSampleRate: 1',
        `  sinks: [{ type: http, name: opa, url: "http://127.0.0.1:${port}/logs", batch: { maxLines: 5, maxDelay: 10ms }, buffer: { maxLines: 20 }, retry: { minDelay: 50ms, maxDelay: 200ms } }]`,
        'shutdown: { drainTimeout: 1s }',
      ].join('\n'),
    });
    const downClient = new CheckClient(down.grpc);
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          downClient.check(httpCheck({ principal: i % 10 === 0 ? BATCH : CHECKOUT, method: 'POST', path: '/v1/charges', service: 'payments' })),
        ),
      );
      expect(answers.filter((a) => (a.status?.code ?? 0) === 0)).toHaveLength(180);
      expect(answers.filter((a) => a.status?.code === 7)).toHaveLength(20);
      const metrics = await (await fetch(`http://${down.admin}/metrics`)).text();
      expect(metrics).toMatch(/meshwarden_decision_log_dropped_total\{sink="opa",reason="buffer_full"\} [1-9]/);
      expect(metrics).toMatch(/meshwarden_decision_log_send_failures_total\{sink="opa"\} [1-9]/);
      downClient.close();
      const stopping = Date.now();
      expect(await down.stop('SIGTERM')).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(10_000); // the drain timeout bounds the sink's flush
    } finally {
      downClient.close();
      await down.stop('SIGKILL');
    }
  }, 30_000);
});
