/**
 * `serve --workers 2` as real processes: a primary and two workers on one gRPC address.
 * Connections from separate clients spread over both workers (counted per worker pid in the
 * aggregated metrics), the admin port speaks for all of them, SIGHUP reaches every worker,
 * and a worker killed with SIGKILL is replaced by one that serves.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson, type Decoded } from '../helpers/check-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { parseExposition, sampleValue, seriesOf, type ParsedSample } from '../telemetry/exposition.js';
import { BATCH, CART, ordersAllowing } from '../helpers/orders-policy.js';

let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = tempDir('meshwarden-workers-');
  writeFileSync(join(dir, 'orders.yaml'), ordersAllowing(CART));
  server = await startServer({
    configDir: dir,
    // no file watching: the reload below must come from the SIGHUP relayed to every worker
    configText: ['policies: [./orders.yaml]', 'reload: { watch: false }', 'decisionLog: { output: off }'].join('\n'),
    args: ['--workers', '2'],
  });
});

afterAll(async () => {
  await server?.stop();
});

const workerLines = () => server.logs.filter((line) => line['msg'] === 'worker listening');
const admin = (path: string) => fetch(`http://${server.admin}${path}`);
const scrape = async () => parseExposition(await (await admin('/metrics')).text());
const verdict = (answer: Decoded) => structToJson(answer.dynamicMetadata)['decision'];

/** One Check from each of `count` clients that do not share a connection, so each is a new connection. */
async function checksOnNewConnections(count: number, principal = CART): Promise<Decoded[]> {
  const clients = Array.from(
    { length: count },
    () => new CheckClient(server.grpc, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 }, deadlineMs: 5_000 }),
  );
  try {
    return await Promise.all(clients.map((client) => client.check(httpCheck({ principal, path: '/orders/1', service: 'orders' }))));
  } finally {
    for (const client of clients) client.close();
  }
}

/** `meshwarden_worker_checks_total` by pid. */
function checksByPid(samples: readonly ParsedSample[]): Map<number, number> {
  return new Map(seriesOf(samples, 'meshwarden_worker_checks_total').map((s) => [Number(s.labels['pid']), s.value]));
}

const total = (samples: readonly ParsedSample[], name: string) =>
  seriesOf(samples, name).reduce((sum, sample) => sum + sample.value, 0);

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a primary with two workers', () => {
  it('starts two worker processes that serve the one gRPC address the primary announces', () => {
    const lines = workerLines();
    expect(lines).toHaveLength(2);
    expect(lines.map((line) => line['grpc'])).toEqual([server.grpc, server.grpc]);
    const pids = lines.map((line) => line['pid']);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(server.child.pid);
    const listening = server.logs.find((line) => line['msg'] === 'listening');
    expect(listening).toMatchObject({ pid: server.child.pid, grpc: server.grpc, admin: server.admin });
    expect(listening?.['workers']).toEqual(expect.arrayContaining(pids));
  });

  it('spreads separate connections over both workers, and /metrics sums their checks', async () => {
    const before = await scrape();
    const answers = await checksOnNewConnections(12);
    expect(answers.map(verdict)).toEqual(Array(12).fill('allow'));

    const after = await scrape();
    const perWorker = checksByPid(after);
    const beforePerWorker = checksByPid(before);
    expect([...perWorker.keys()].sort()).toEqual(workerLines().map((line) => Number(line['pid'])).sort());
    for (const [pid, count] of perWorker) expect(count - (beforePerWorker.get(pid) ?? 0), `checks on worker ${pid}`).toBeGreaterThan(0);
    const served = total(after, 'meshwarden_worker_checks_total') - total(before, 'meshwarden_worker_checks_total');
    expect(served).toBe(12);
    expect(total(after, 'meshwarden_checks_total') - total(before, 'meshwarden_checks_total')).toBe(12);
    expect(sampleValue(after, 'meshwarden_checks_total', { decision: 'allow', reason: 'policy_allow' })).toBe(
      total(after, 'meshwarden_worker_checks_total'),
    );
    expect(sampleValue(after, 'meshwarden_cluster_scrape_workers', { result: 'answered' })).toBe(2);
    expect(sampleValue(after, 'meshwarden_cluster_workers', { state: 'ready' })).toBe(2);
  });

  it('merges the flow graphs of both workers on /flows', async () => {
    const perWorker = checksByPid(await scrape());
    const { edges } = (await (await admin('/flows')).json()) as { edges: { destination: string; count: number }[] };
    const orders = edges.find((edge) => edge.destination === 'orders');
    expect(orders?.count).toBe([...perWorker.values()].reduce((a, b) => a + b, 0));
  });

  it('is ready when every worker is, and /policy shows each worker on the primary snapshot', async () => {
    expect((await admin('/readyz')).status).toBe(200);
    const policy = (await (await admin('/policy')).json()) as { hash: string; workers: { ready: boolean; hash: string }[] };
    expect(policy.workers).toHaveLength(2);
    for (const worker of policy.workers) expect(worker).toMatchObject({ ready: true, hash: policy.hash });
  });

  it('relays SIGHUP to every worker: both serve the new policy', async () => {
    const { hash: before } = (await (await admin('/policy')).json()) as { hash: string };
    writeFileSync(join(dir, 'orders.yaml'), ordersAllowing(BATCH));
    server.child.kill('SIGHUP');
    const policy = await eventually(async () => {
      const info = (await (await admin('/policy')).json()) as { hash: string; workers: { hash: string; generation: number }[] };
      return info.hash !== before && info.workers.every((w) => w.hash === info.hash) ? info : undefined;
    });
    expect(policy.workers.map((w) => w.generation)).toEqual([2, 2]);
    const answers = await checksOnNewConnections(6, CART);
    expect(answers.map(verdict)).toEqual(Array(6).fill('deny'));
  });

  it('replaces a worker killed with SIGKILL by a new process that serves', async () => {
    const [victim, survivor] = workerLines().map((line) => Number(line['pid']));
    process.kill(victim!, 'SIGKILL');
    const replacement = await server.waitForLog((line) => line['msg'] === 'worker listening' && ![victim, survivor].includes(Number(line['pid'])));
    const newPid = Number(replacement['pid']);
    expect(replacement['grpc']).toBe(server.grpc);
    await eventually(async () => ((await admin('/readyz')).status === 200 ? true : undefined));

    const served = await eventually(async () => {
      await checksOnNewConnections(6, BATCH);
      const counts = checksByPid(await scrape());
      return (counts.get(newPid) ?? 0) > 0 ? counts : undefined;
    });
    expect([...served.keys()].sort()).toEqual([newPid, survivor].sort());
    expect(sampleValue(await scrape(), 'meshwarden_cluster_worker_restarts_total')).toBe(1);
  });
});
