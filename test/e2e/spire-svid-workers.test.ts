/**
 * `meshwarden serve --workers 2` with its SVID from the Workload API (a TEST DOUBLE of the
 * agent, not SPIRE): each worker streams its own SVID; the primary is ready only once every
 * worker has one, and after a rotation every new handshake, whichever worker takes it, gets
 * the new SVID.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { adminGet } from './operations-support.js';
import { ENVOY, MESHWARDEN, EnvoyLikeConnection, clientTls, makeKey, spireMesh } from './spire-support.js';

const WAIT = { timeout: 15_000, interval: 100 };
/** Handshakes enough to reach both workers with near certainty (the kernel spreads them). */
const HANDSHAKES = 8;

describe('meshwarden serve --workers 2 serving its SVID from the Workload API', () => {
  const mesh = spireMesh();
  let server: ServerProcess | undefined;

  afterAll(async () => {
    await server?.stop();
    await mesh.agent.stop();
  });

  async function servedSerials(): Promise<Set<string>> {
    const serials = new Set<string>();
    for (let i = 0; i < HANDSHAKES; i++) {
      const connection = await EnvoyLikeConnection.open(server!.grpc, clientTls(mesh, 'envoy'));
      serials.add(connection.serverSerial);
      connection.close();
    }
    return serials;
  }

  it('is not ready before the SVID, then every worker serves it, and every worker takes the rotation', async () => {
    for (const [name, id] of [['meshwarden-1', MESHWARDEN], ['meshwarden-2', MESHWARDEN], ['envoy', ENVOY]] as const) mesh.issue(name, id);
    mesh.sendBundles([makeKey('k')]);
    await mesh.agent.start();
    server = await startServer({ configText: mesh.configText, configDir: mesh.dir, args: ['--workers', '2'] });
    await vi.waitUntil(async () => (await adminGet(server!.admin, '/readyz')).status === 503, WAIT);
    mesh.agent.sendSvid(mesh.svids.get('meshwarden-1')!.message);
    await vi.waitUntil(async () => (await adminGet(server!.admin, '/readyz')).status === 200, WAIT);
    expect(await servedSerials()).toEqual(new Set([mesh.svids.get('meshwarden-1')!.serialNumber]));

    mesh.agent.sendSvid(mesh.svids.get('meshwarden-2')!.message);
    await vi.waitUntil(async () => server!.logs.filter((line) => line['msg'] === 'gRPC listener X.509-SVID rotated').length === 2, WAIT);
    expect(await servedSerials()).toEqual(new Set([mesh.svids.get('meshwarden-2')!.serialNumber]));
  });
});
