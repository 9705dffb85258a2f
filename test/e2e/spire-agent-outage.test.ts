/**
 * The SPIRE agent gone for 30 s, then back, under `meshwarden serve` fed only by the Workload
 * API (a TEST DOUBLE of the agent: grpc-js on the official proto, not SPIRE). Meanwhile the last
 * good SVID keeps being served to new handshakes, the last good bundles keep verifying callers,
 * the server stays ready, every stream's reconnects are counted and the log says what failed;
 * once the agent is back, its rotated SVID and JWT keys are taken. The only test that waits
 * out a real outage: its length is the scenario, not an event to await.
 */
import { rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { Scrape, adminGet } from './operations-support.js';
import { CART, ENVOY, MESHWARDEN, EnvoyLikeConnection, clientTls, decisionOf, jwtSvid, makeKey, ordersCheck, spireMesh } from './spire-support.js';

const OUTAGE_MS = 30_000;
const ROUND_MS = 5_000;
const STREAMS = ['x509', 'jwt'] as const;

const mesh = spireMesh();
let server: ServerProcess | undefined;
const connections: EnvoyLikeConnection[] = [];

afterAll(async () => {
  for (const connection of connections) connection.close();
  await server?.stop();
  await mesh.agent.stop();
});

async function connect(): Promise<EnvoyLikeConnection> {
  const connection = await EnvoyLikeConnection.open(server!.grpc, clientTls(mesh, 'envoy'));
  connections.push(connection);
  return connection;
}

async function reconnects(): Promise<number[]> {
  const scrape = await Scrape.of(server!.admin);
  return [
    ...STREAMS.map((stream) => scrape.value('meshwarden_workload_api_reconnects_total', { stream })),
    scrape.value('meshwarden_workload_api_svid_reconnects_total'),
  ];
}

describe('an agent outage of 30 s', () => {
  it('keeps serving the last good SVID and bundles, counts and logs the failures, and takes the agent updates once it is back', async () => {
    const [oldKey, newKey] = [makeKey('before-outage'), makeKey('after-outage')];
    for (const [name, id] of [['meshwarden-1', MESHWARDEN], ['meshwarden-2', MESHWARDEN], ['envoy', ENVOY], ['cart', CART]] as const) mesh.issue(name, id);
    const [first, second] = [mesh.svids.get('meshwarden-1')!, mesh.svids.get('meshwarden-2')!];
    const cartX509 = ordersCheck({ principal: CART, certificatePem: mesh.svids.get('cart')!.pem });
    mesh.sendBundles([oldKey]);
    mesh.agent.sendSvid(first.message);
    await mesh.agent.start();
    server = await startServer({ configText: mesh.configText, configDir: mesh.dir });
    await vi.waitUntil(async () => (await adminGet(server!.admin, '/readyz')).status === 200, { timeout: 10_000, interval: 50 });
    const live = await connect();
    const before = await reconnects();

    await mesh.agent.stop();
    rmSync(mesh.agent.socketPath, { force: true });
    const outageEnds = Date.now() + OUTAGE_MS;
    for (let round = 0; round < OUTAGE_MS / ROUND_MS && Date.now() < outageEnds; round++) {
      const fresh = await connect();
      expect(fresh.serverSerial).toBe(first.serialNumber);
      expect(decisionOf(await fresh.check(cartX509))).toBe('allow');
      expect(decisionOf(await live.check(ordersCheck({ token: await jwtSvid(oldKey, CART) })))).toBe('allow');
      expect((await adminGet(server.admin, '/readyz')).status).toBe(200);
      fresh.close();
      await delay(Math.max(0, Math.min(ROUND_MS, outageEnds - Date.now())));
    }

    const during = await reconnects();
    during.forEach((count, index) => expect(count, `reconnects of stream ${index}`).toBeGreaterThan(before[index]!));
    const failed = (text: RegExp) => server!.logs.some((line) => text.test(String(line['msg'])));
    expect(failed(/^trust material failed to load: Workload API unix:.*\(X\.509 bundles\): UNAVAILABLE.*; keeping the last good keys/)).toBe(true);
    expect(failed(/^trust material failed to load: Workload API unix:.*\(JWT bundles\): UNAVAILABLE.*; keeping the last good keys/)).toBe(true);
    expect(failed(/^gRPC listener X\.509-SVID: Workload API unix:.*\(X\.509-SVID\): UNAVAILABLE.*; keeping the SVID in service/)).toBe(true);
    // loud, not a flood: six rounds of retries told in a handful of lines
    expect(server.logs.filter((line) => String(line['msg']).includes('(X.509-SVID): UNAVAILABLE')).length).toBeLessThanOrEqual(3);

    mesh.sendBundles([newKey]);
    mesh.agent.sendSvid(second.message);
    await mesh.agent.start();
    // the streams' next retry comes at most 30 s after the last (their backoff's cap)
    await vi.waitUntil(async () => (await connect()).serverSerial === second.serialNumber, { timeout: 45_000, interval: 500 });
    await vi.waitUntil(async () => decisionOf(await live.check(ordersCheck({ token: await jwtSvid(newKey, CART) }))) === 'allow', { timeout: 45_000, interval: 500 });
    expect(decisionOf(await live.check(ordersCheck({ token: await jwtSvid(oldKey, CART) })))).toBe('unauthenticated');
    expect(decisionOf(await live.check(cartX509))).toBe('allow');
  }, 150_000);
});
