/**
 * Done when: `meshwarden serve` with no bundle, certificate or key file at all, fed only by a
 * Workload API socket (a TEST DOUBLE of the SPIRE agent: grpc-js on the official proto, not
 * SPIRE). It serves mTLS on its gRPC listener with its own X.509-SVID, to Envoy-like clients
 * presenting theirs; verifies callers' X.509 and JWT SVIDs against the streamed bundles; allows
 * and denies per policy; and rotates its SVID under live connections.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { issueSvid } from '../identity/helpers/workload-svids.js';
import { adminGet, metric } from './operations-support.js';
import {
  BATCH, CART, ENVOY, MESHWARDEN, EnvoyLikeConnection, clientTls, decisionOf, jwtSvid, makeKey, openFails, ordersCheck, spireMesh, type SpireMesh,
} from './spire-support.js';

const WAIT = { timeout: 10_000, interval: 50 };

const jwtKey = makeKey('mesh-1');
const strangerKey = makeKey('stranger');

describe.each(['native', 'grpc-js'])('meshwarden fed only by the Workload API (%s transport)', (transport) => {
  let mesh: SpireMesh;
  let server: ServerProcess;
  const connections: EnvoyLikeConnection[] = [];

  beforeAll(async () => {
    mesh = spireMesh();
    for (const [name, id] of [['meshwarden-1', MESHWARDEN], ['meshwarden-2', MESHWARDEN], ['envoy', ENVOY], ['cart', CART], ['batch', BATCH]] as const) mesh.issue(name, id);
    await mesh.agent.start();
    mesh.sendBundles([jwtKey]);
    server = await startServer({ configText: mesh.configText.replace('grpc:\n', `grpc:\n  transport: ${transport}\n`), configDir: mesh.dir });
  });

  afterAll(async () => {
    for (const connection of connections) connection.close();
    await server?.stop();
    await mesh?.agent.stop();
  });

  async function connect(client = 'envoy'): Promise<EnvoyLikeConnection> {
    const connection = await EnvoyLikeConnection.open(server.grpc, clientTls(mesh, client));
    connections.push(connection);
    return connection;
  }

  it('is not ready and takes no connection before its first SVID, saying why', async () => {
    await vi.waitUntil(async () => (await adminGet(server.admin, '/readyz')).body.includes('X.509-SVID'), WAIT);
    expect(await adminGet(server.admin, '/readyz')).toMatchObject({ status: 503, body: expect.stringMatching(/X\.509-SVID\): waiting for the first SVID/) });
    expect(await openFails(() => connect())).toBe(true);
  });

  it('turns ready on its first SVID and serves it to Envoy over mTLS', async () => {
    mesh.agent.sendSvid(mesh.svids.get('meshwarden-1')!.message);
    await vi.waitUntil(async () => (await adminGet(server.admin, '/readyz')).status === 200, WAIT);
    const envoy = await connect();
    expect(envoy.serverSerial).toBe(mesh.svids.get('meshwarden-1')!.serialNumber);
    await server.waitForLog((line) => line['msg'] === 'gRPC listener X.509-SVID from the Workload API in service' && line['spiffeId'] === MESHWARDEN);
  });

  it('verifies X.509-SVID callers against the streamed bundle and decides per policy', async () => {
    const envoy = await connect();
    const cart = mesh.svids.get('cart')!.pem;
    expect(decisionOf(await envoy.check(ordersCheck({ principal: CART, certificatePem: cart })))).toBe('allow');
    expect(decisionOf(await envoy.check(ordersCheck({ principal: BATCH, certificatePem: mesh.svids.get('batch')!.pem })))).toBe('deny');
    // the principal Envoy names must be the certificate's
    expect(decisionOf(await envoy.check(ordersCheck({ principal: CART, certificatePem: mesh.svids.get('batch')!.pem })))).toBe('unauthenticated');
  });

  it('verifies JWT-SVID callers against the streamed JWT bundle and decides per policy', async () => {
    const envoy = await connect();
    expect(decisionOf(await envoy.check(ordersCheck({ token: await jwtSvid(jwtKey, CART) })))).toBe('allow');
    expect(decisionOf(await envoy.check(ordersCheck({ token: await jwtSvid(jwtKey, BATCH) })))).toBe('deny');
    expect(decisionOf(await envoy.check(ordersCheck({ token: await jwtSvid(strangerKey, CART) })))).toBe('unauthenticated');
  });

  it('refuses a client without a certificate, with one of another root, or with an ID not allowed', async () => {
    expect(await openFails(() => connect('cart'))).toBe(true); // cart's SVID is good, but not in allowedClientIds
    const other = mesh.pki.root('other-root', 'mesh.test');
    const impostorSvid = issueSvid(mesh.pki, other, 'impostor', ENVOY);
    mesh.svids.set('impostor', impostorSvid);
    expect(await openFails(() => connect('impostor'))).toBe(true);
  });

  it('rotates its SVID under live connections: an open connection keeps answering, a new handshake gets the new SVID', async () => {
    const before = await connect();
    const first = mesh.svids.get('meshwarden-1')!.serialNumber;
    const second = mesh.svids.get('meshwarden-2')!.serialNumber;
    mesh.agent.sendSvid(mesh.svids.get('meshwarden-2')!.message);
    await server.waitForLog((line) => line['msg'] === 'gRPC listener X.509-SVID rotated');
    const after = await connect();
    expect(after.serverSerial).toBe(second);
    expect(before.serverSerial).toBe(first);
    expect(before.closed).toBe(false);
    const cart = ordersCheck({ principal: CART, certificatePem: mesh.svids.get('cart')!.pem });
    expect(decisionOf(await before.check(cart))).toBe('allow');
    expect(decisionOf(await after.check(cart))).toBe('allow');
    await expect.poll(metric(server.admin, 'meshwarden_workload_api_svid_updates_total', { result: 'applied' })).toBe(2);
  });

  it('refuses an SVID for another ID, keeps serving the one in service, and the log says why', async () => {
    const liar = issueSvid(mesh.pki, mesh.root, 'liar', MESHWARDEN, { uriInCert: CART });
    mesh.agent.sendSvid(liar.message);
    const line = await server.waitForLog((l) => l['code'] === 'ERR_SVID_ID_MISMATCH');
    expect(line['msg']).toMatch(/gRPC listener X\.509-SVID: .*the certificate names spiffe:\/\/mesh\.test\/ns\/shop\/sa\/cart.*; keeping the SVID in service/);
    expect(JSON.stringify(server.logs)).not.toMatch(/PRIVATE KEY/);
    expect((await connect()).serverSerial).toBe(mesh.svids.get('meshwarden-2')!.serialNumber);
    expect(await metric(server.admin, 'meshwarden_workload_api_svid_updates_total', { result: 'refused' })()).toBe(1);
  });
});
