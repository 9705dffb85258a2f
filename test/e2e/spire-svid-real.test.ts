/**
 * `meshwarden serve` fed only by a REAL SPIRE agent (not a double; built by
 * test/helpers/install-spire.sh, join-token attestation, unix sockets in a temp dir): no bundle,
 * certificate or key file. Its gRPC listener serves the X.509-SVID SPIRE issued to it, to a
 * client presenting the SVID SPIRE issued to this test (the same uid, so the same entry and
 * SPIFFE ID); it verifies SPIRE's JWT-SVIDs and X.509-SVIDs and decides per policy; through an
 * agent restart it keeps serving and takes the agent's stream again.
 * Skipped with one line without SPIRE, as the other real-SPIRE suite.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findSpire, Spire, SPIRE_WORKLOAD_ID } from '../helpers/spire.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { adminGet, metric } from './operations-support.js';
import { EnvoyLikeConnection, decisionOf, ordersCheck, ordersPolicy, workloadApiOnlyConfig, type ClientTls } from './spire-support.js';

const WAIT = { timeout: 30_000, interval: 100 };

const spire = findSpire();
if (!spire.found) console.log(`spire-svid-real: skipped, ${spire.problem}`);

describe.runIf(spire.found)('meshwarden serve fed only by a real SPIRE agent', () => {
  let agent: Spire;
  let server: ServerProcess;
  let client: ClientTls;
  let svidPem: string;
  const connections: EnvoyLikeConnection[] = [];

  beforeAll(async () => {
    if (!spire.found) return; // runIf has skipped the suite
    agent = new Spire(spire.dir);
    await agent.start();
    // what SPIRE's own CLI fetches for this process: its SVID, key and bundle (the agent
    // answers "no identity issued" until it has synced the entry just created)
    svidPem = await vi.waitUntil(() => attempt(() => agent.fetchX509SvidPem()), WAIT);
    const written = (name: string) => readFileSync(join(agent.dir, 'svid', name));
    client = { ca: written('bundle.0.pem'), cert: written('svid.0.pem'), key: written('svid.0.key') };
    writeFileSync(join(agent.dir, 'policies.yaml'), ordersPolicy(SPIRE_WORKLOAD_ID));
    const config = workloadApiOnlyConfig(agent.target, SPIRE_WORKLOAD_ID);
    server = await startServer({ configText: config, configDir: agent.dir });
  }, 90_000);

  afterAll(async () => {
    for (const connection of connections) connection.close();
    await server?.stop();
    await agent?.close();
  });

  async function connect(): Promise<EnvoyLikeConnection> {
    const connection = await EnvoyLikeConnection.open(server.grpc, client, SPIRE_WORKLOAD_ID);
    connections.push(connection);
    return connection;
  }

  it('turns ready and serves the SVID SPIRE issued to it over mTLS', async () => {
    await vi.waitUntil(async () => (await adminGet(server.admin, '/readyz')).status === 200, WAIT);
    const line = await server.waitForLog((l) => l['msg'] === 'gRPC listener X.509-SVID from the Workload API in service');
    expect(line['spiffeId']).toBe(SPIRE_WORKLOAD_ID);
    expect((await connect()).serverSerial).toBe((line['certificate'] as { serialNumber: string }).serialNumber);
  });

  it("verifies SPIRE's JWT-SVID and X.509-SVID and decides per policy", async () => {
    const envoy = await connect();
    expect(decisionOf(await envoy.check(ordersCheck({ token: agent.fetchJwtSvid('meshwarden') })))).toBe('allow');
    expect(decisionOf(await envoy.check(ordersCheck({ principal: SPIRE_WORKLOAD_ID, certificatePem: svidPem })))).toBe('allow');
    const elsewhere = ordersCheck({ principal: SPIRE_WORKLOAD_ID, certificatePem: svidPem }) as { attributes: { request: { http: Record<string, string> } } };
    elsewhere.attributes.request.http['path'] = '/admin';
    expect(decisionOf(await envoy.check(elsewhere))).toBe('deny');
  });

  it('keeps serving its SVID while the agent restarts, and takes the stream again once it is back', async () => {
    const updates = await metric(server.admin, 'meshwarden_workload_api_svid_updates_total', { result: 'applied' })();
    const envoy = await connect();
    const token = agent.fetchJwtSvid('meshwarden');
    await agent.stopAgent();
    await expect.poll(metric(server.admin, 'meshwarden_workload_api_svid_reconnects_total'), WAIT).toBeGreaterThan(0);
    // a new handshake while the agent is down: the last good SVID, and the last good JWT keys
    expect(decisionOf(await (await connect()).check(ordersCheck({ token })))).toBe('allow');
    expect((await adminGet(server.admin, '/readyz')).status).toBe(200);
    await agent.startAgent();
    await expect.poll(metric(server.admin, 'meshwarden_workload_api_svid_updates_total', { result: 'applied' }), WAIT).toBeGreaterThan(updates);
    expect(decisionOf(await envoy.check(ordersCheck({ token: agent.fetchJwtSvid('meshwarden') })))).toBe('allow');
  }, 90_000);
});

function attempt<T>(fetch: () => T): T | false {
  try {
    return fetch();
  } catch {
    return false;
  }
}
