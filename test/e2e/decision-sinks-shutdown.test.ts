/**
 * `meshwarden serve` as a real process with an HTTP decision-log sink whose batch delay is an
 * hour: nothing leaves before SIGTERM, and SIGTERM ships every decision line within the drain
 * timeout before the process exits 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { Receiver } from '../telemetry/decision-sink-receiver.js';

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
