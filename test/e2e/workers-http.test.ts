/**
 * `serve --workers 2` with the HTTP ext_authz listener: the primary turns `host:0` into one port
 * that both workers serve, and separate connections spread over both (counted per worker pid in
 * the aggregated metrics), every one decided.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, rawExchange } from '../helpers/raw-http1.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { parseExposition, seriesOf } from '../telemetry/exposition.js';
import { CART, ordersAllowing } from '../helpers/orders-policy.js';

let server: ServerProcess;

beforeAll(async () => {
  const dir = tempDir('meshwarden-workers-http-');
  writeFileSync(join(dir, 'orders.yaml'), ordersAllowing(CART));
  server = await startServer({
    configDir: dir,
    configText: ['policies: [./orders.yaml]', 'reload: { watch: false }', 'decisionLog: { output: off }', 'http: { address: "127.0.0.1:0", pathPrefix: /authz }'].join('\n'),
    args: ['--workers', '2'],
  });
});

afterAll(async () => {
  await server?.stop();
});

/** One request per connection, as many as `count`. */
const requests = (count: number) =>
  Promise.all(Array.from({ length: count }, () => rawExchange(server.http, [
    httpRequest('GET', '/authz/orders/1', [['host', 'orders'], ['x-meshwarden-source-principal', CART], ['x-meshwarden-context-service', 'orders']]),
  ])));

describe('a primary with two workers and the HTTP listener', () => {
  it('has both workers serve the one HTTP address the primary announces', () => {
    const workers = server.logs.filter((line) => line['msg'] === 'worker listening');
    expect(server.http).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(workers.map((line) => line['http'])).toEqual([server.http, server.http]);
  });

  it('spreads separate connections over both workers, every request decided', async () => {
    const answers = await requests(12);
    expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(200));
    const samples = parseExposition(await (await fetch(`http://${server.admin}/metrics`)).text());
    const perWorker = seriesOf(samples, 'meshwarden_worker_checks_total').map((sample) => sample.value);
    expect(perWorker).toHaveLength(2);
    for (const count of perWorker) expect(count).toBeGreaterThan(0);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(12);
  });
});
