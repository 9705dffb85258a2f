/**
 * The Workload API over TCP, as the SPIFFE Workload Endpoint spec allows (tcp://IP:PORT):
 * `meshwarden serve` fed only by an agent listening on 127.0.0.1 (a TEST DOUBLE of the SPIRE
 * agent, grpc-js on the official proto, not SPIRE; there is no unix socket at all) takes its
 * trust bundles and its listener's X.509-SVID from it, serves that SVID to an Envoy-like mTLS
 * client, and decides with the streamed bundles.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { TestPki } from '../identity/helpers/pki.js';
import { publicJwk } from '../identity/helpers/tokens.js';
import { WorkloadApiDouble } from '../identity/helpers/workload-api-double.js';
import { issueSvid, keyFile } from '../identity/helpers/workload-svids.js';
import { adminGet } from './operations-support.js';
import { BATCH, CART, ENVOY, MESHWARDEN, TD, EnvoyLikeConnection, decisionOf, jwtSvid, makeKey, ordersCheck, ordersPolicy, workloadApiOnlyConfig } from './spire-support.js';

const WAIT = { timeout: 10_000, interval: 50 };
const jwtKey = makeKey('mesh-tcp');

describe('meshwarden fed by a Workload API on tcp://127.0.0.1:PORT', () => {
  const pki = new TestPki();
  const root = pki.root('mesh-root', TD);
  const agent = new WorkloadApiDouble({ tcpHost: '127.0.0.1' });
  const svids = { meshwarden: issueSvid(pki, root, 'meshwarden', MESHWARDEN), envoy: issueSvid(pki, root, 'envoy', ENVOY), cart: issueSvid(pki, root, 'cart', CART), batch: issueSvid(pki, root, 'batch', BATCH) };
  let server: ServerProcess;
  let envoy: EnvoyLikeConnection;

  beforeAll(async () => {
    await agent.start();
    agent.send('x509', { [`spiffe://${TD}`]: new X509Certificate(root.pem).raw });
    agent.send('jwt', { [`spiffe://${TD}`]: Buffer.from(JSON.stringify({ keys: [publicJwk(jwtKey)] })) });
    agent.sendSvid(svids.meshwarden.message);
    writeFileSync(join(pki.dir, 'policies.yaml'), ordersPolicy());
    server = await startServer({ configText: workloadApiOnlyConfig(agent.target, ENVOY), configDir: pki.dir });
    await vi.waitUntil(async () => (await adminGet(server.admin, '/readyz')).status === 200, WAIT);
    envoy = await EnvoyLikeConnection.open(server.grpc, { ca: root.pem, cert: svids.envoy.pem, key: keyFile(pki, 'envoy') });
  });

  afterAll(async () => {
    envoy?.close();
    await server?.stop();
    await agent.stop();
  });

  it('is configured with the spec form of the address, an IP and a port', () => {
    expect(agent.target).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('opens all three streams over TCP and serves the SVID the agent sent on its mTLS listener', () => {
    expect(agent.opened).toEqual({ x509: 1, jwt: 1, svid: 1 });
    expect(envoy.serverSerial).toBe(svids.meshwarden.serialNumber);
  });

  it('verifies X.509-SVID callers against the X.509 bundle it streamed over TCP', async () => {
    expect(decisionOf(await envoy.check(ordersCheck({ principal: CART, certificatePem: svids.cart.pem })))).toBe('allow');
    expect(decisionOf(await envoy.check(ordersCheck({ principal: BATCH, certificatePem: svids.batch.pem })))).toBe('deny');
  });

  it('verifies JWT-SVID callers against the JWT bundle it streamed over TCP', async () => {
    expect(decisionOf(await envoy.check(ordersCheck({ token: await jwtSvid(jwtKey, CART) })))).toBe('allow');
    expect(decisionOf(await envoy.check(ordersCheck({ token: await jwtSvid(makeKey('stranger'), CART) })))).toBe('unauthenticated');
  });
});
