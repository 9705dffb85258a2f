/**
 * A rolling restart as Envoy sees it: two meshwarden replicas behind one Envoy, which balances
 * Checks across both and health-checks each. A replica that is stopped (SIGTERM) says
 * NOT_SERVING first (`shutdown.notServingDelay`), Envoy stops sending it Checks, and only then
 * does it close: callers see no 503 while it goes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy, envoyBin } from '../helpers/envoy/describe-with-envoy.js';
import { EchoUpstream } from '../helpers/envoy/echo-upstream.js';
import { startEnvoy, type EnvoyProcess } from '../helpers/envoy/envoy-process.js';
import { send } from '../helpers/envoy/http-client.js';
import { TRANSPORTS } from '../helpers/envoy/stack.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: reads }
spec:
  target: { services: ["shop"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/items/{*}"] } }] }]
`;

interface HostStatus {
  readonly address: { socket_address: { port_value: number } };
  readonly health_status: { eds_health_status?: string; failed_active_health_check?: boolean };
  readonly stats: { name: string; value?: string | number }[];
}

describeWithEnvoy.each(TRANSPORTS)('a rolling restart of meshwarden behind Envoy (meshwarden on %s)', (transport) => {
  let upstream: EchoUpstream;
  let replicas: ServerProcess[];
  let envoy: EnvoyProcess;

  beforeAll(async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'policies.yaml'), POLICIES);
    const config = [
      'policies: [./policies.yaml]',
      `grpc: { transport: ${transport} }`,
      'shutdown: { notServingDelay: 1500ms, drainTimeout: 5s }',
      'decisionLog: { output: "off" }',
    ].join('\n');
    upstream = await EchoUpstream.start();
    replicas = await Promise.all([0, 1].map(() => startServer({ configText: config, configDir: dir })));
    envoy = await startEnvoy({
      bin: envoyBin()!,
      bootstrap: bootstrap({
        listeners: [httpListener({ name: 'inbound', routes: [{ name: 'shop', match: { prefix: '/' }, service: 'shop' }] })],
        clusters: [appCluster(upstream.port), meshwardenCluster(replicas.map((r) => r.grpc), { healthCheckInterval: '0.25s' })],
      }),
    });
  });
  afterAll(async () => {
    await envoy?.stop();
    await Promise.all((replicas ?? []).map((r) => r.stop()));
    await upstream?.close();
  });

  async function hosts(): Promise<HostStatus[]> {
    const { body } = await envoy.adminGet('/clusters?format=json');
    const clusters = (JSON.parse(body) as { cluster_statuses: { name: string; host_statuses?: HostStatus[] }[] }).cluster_statuses;
    return clusters.find((c) => c.name === 'meshwarden')?.host_statuses ?? [];
  }

  const healthy = async () => (await hosts()).filter((h) => !h.health_status.failed_active_health_check).length;
  const checksSent = async (grpc: string) => {
    const host = (await hosts()).find((h) => grpc.endsWith(`:${h.address.socket_address.port_value}`));
    return Number(host?.stats.find((s) => s.name === 'rq_total')?.value ?? 0);
  };

  it('loses no request while one of two replicas drains and exits', async () => {
    await expect.poll(healthy, { timeout: 5_000 }).toBe(2);
    const [leaving, staying] = replicas as [ServerProcess, ServerProcess];
    const statuses: number[] = [];
    let running = true;
    const traffic = Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; running && i < 10_000; i++) {
        statuses.push((await send(envoy.port('inbound'), `/items/${worker}-${i}`)).status);
      }
    });
    await expect.poll(() => statuses.length, { timeout: 5_000 }).toBeGreaterThan(50);
    expect(await checksSent(leaving.grpc)).toBeGreaterThan(0); // both replicas were in use
    const exitCode = await leaving.stop();
    const sentToStayingWhenGone = await checksSent(staying.grpc);
    await expect.poll(() => checksSent(staying.grpc), { timeout: 5_000 }).toBeGreaterThan(sentToStayingWhenGone + 50);
    running = false;
    await Promise.all(traffic);
    expect(exitCode).toBe(0);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    await expect.poll(healthy, { timeout: 5_000 }).toBe(1);
  });
});
