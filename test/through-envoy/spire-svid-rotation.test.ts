/**
 * A real Envoy calling meshwarden over mTLS, meshwarden fed only by the Workload API (a TEST
 * DOUBLE of the SPIRE agent: grpc-js on the official proto, not SPIRE). Envoy presents its own
 * SVID and checks meshwarden's by SPIFFE ID (here from files; SDS from the agent in
 * envoy/sidecar-unix.yaml); callers carry JWT-SVIDs that meshwarden verifies against the
 * streamed bundle. When the agent rotates meshwarden's SVID, Envoy's open connection keeps
 * answering (nothing torn down), and a new Envoy's first handshake gets the new SVID.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy, envoyBin } from '../helpers/envoy/describe-with-envoy.js';
import { startEnvoy, type EnvoyProcess } from '../helpers/envoy/envoy-process.js';
import { send } from '../helpers/envoy/http-client.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import {
  BATCH, CART, ENVOY, MESHWARDEN, EnvoyLikeConnection, clientTls, jwtSvid, makeKey, spireMesh, type SpireMesh,
} from '../e2e/spire-support.js';

const ROUTES = [{ name: 'orders', match: { prefix: '/orders/' }, service: 'orders' }];

describeWithEnvoy.each(TRANSPORTS)('Envoy over mTLS to meshwarden serving its SVID from the Workload API (%s)', (transport) => {
  const key = makeKey('mesh-jwt');
  let mesh: SpireMesh;
  let stack: Stack;
  const extra: EnvoyProcess[] = [];

  /** Envoy's bootstrap: a plain listener, and the meshwarden cluster over mTLS with Envoy's SVID. */
  const envoyBootstrap = (grpc: string, upstream: number) => {
    const envoyCert = join(mesh.dir, 'envoy.pem');
    const envoyKey = join(mesh.dir, 'envoy.key');
    return bootstrap({
      listeners: [httpListener({ name: 'plain', routes: ROUTES })],
      clusters: [appCluster(upstream), { ...meshwardenCluster(grpc), transport_socket: upstreamTls(envoyCert, envoyKey, mesh.root.certPath) }],
    });
  };

  beforeAll(async () => {
    mesh = spireMesh();
    for (const [name, id] of [['meshwarden-1', MESHWARDEN], ['meshwarden-2', MESHWARDEN], ['envoy', ENVOY]] as const) mesh.issue(name, id);
    await mesh.agent.start();
    mesh.sendBundles([key]);
    mesh.agent.sendSvid(mesh.svids.get('meshwarden-1')!.message);
    stack = await startStack({ transport, meshwardenConfig: mesh.configText, configDir: mesh.dir, envoy: ({ grpc, upstream }) => envoyBootstrap(grpc, upstream) });
  });

  afterAll(async () => {
    for (const envoy of extra) await envoy.stop();
    await stack?.stop();
    await mesh?.agent.stop();
  });

  const ordersAs = async (sub: string, port = stack.port('plain')) =>
    (await send(port, '/orders/42', { headers: { authorization: `Bearer ${await jwtSvid(key, sub)}` } })).status;
  const counter = async (envoy: EnvoyProcess, name: string) => Number(/: (\d+)$/m.exec((await envoy.adminGet(`/stats?filter=^cluster\\.meshwarden\\.${name}$`)).body)?.[1]);

  it('gets decisions over mTLS: a caller the streamed bundle vouches for is allowed, another denied', async () => {
    expect(await ordersAs(CART)).toBe(200);
    expect(await ordersAs(BATCH)).toBe(403);
    expect(await counter(stack.envoy, 'ssl.handshake')).toBeGreaterThan(0);
  });

  it('keeps its open connection through a rotation, and a new Envoy handshakes with the new SVID', async () => {
    const before = { opened: await counter(stack.envoy, 'upstream_cx_total'), closedByMeshwarden: await counter(stack.envoy, 'upstream_cx_destroy_remote') };
    expect(before.opened).toBeGreaterThan(0);
    expect(Number.isInteger(before.closedByMeshwarden)).toBe(true);
    mesh.agent.sendSvid(mesh.svids.get('meshwarden-2')!.message);
    await stack.meshwarden.waitForLog((line) => line['msg'] === 'gRPC listener X.509-SVID rotated');
    for (let i = 0; i < 5; i++) expect(await ordersAs(CART)).toBe(200);
    expect(await counter(stack.envoy, 'upstream_cx_destroy_remote')).toBe(before.closedByMeshwarden);
    expect(await counter(stack.envoy, 'upstream_cx_total')).toBe(before.opened);

    const probe = await EnvoyLikeConnection.open(stack.meshwarden.grpc, clientTls(mesh, 'envoy'));
    expect(probe.serverSerial).toBe(mesh.svids.get('meshwarden-2')!.serialNumber);
    probe.close();
    const fresh = await startEnvoy({ bin: envoyBin()!, bootstrap: envoyBootstrap(stack.meshwarden.grpc, stack.upstream.port) });
    extra.push(fresh);
    expect(await ordersAs(CART, fresh.port('plain'))).toBe(200);
    expect(await ordersAs(BATCH, fresh.port('plain'))).toBe(403);
  });
});

/** Envoy's side of the mTLS to meshwarden, as an SDS-fed one would be: its SVID, the bundle, meshwarden's SPIFFE ID. */
function upstreamTls(cert: string, key: string, bundle: string): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: {
        alpn_protocols: ['h2'],
        tls_certificates: [{ certificate_chain: { filename: cert }, private_key: { filename: key } }],
        validation_context: {
          trusted_ca: { filename: bundle },
          match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: MESHWARDEN } }],
        },
      },
    },
  };
}
