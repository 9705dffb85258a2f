/**
 * A rolling replacement of meshwarden behind one Envoy: two instances are the endpoints of one
 * cluster that Envoy health-checks over gRPC Health; each in turn is drained with SIGTERM
 * (`shutdown.notServingDelay` turns its health NOT_SERVING first, so Envoy moves away before
 * it closes) and started again, while traffic flows, and no request through Envoy fails.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import type { EnvoyProcess } from '../helpers/envoy/envoy-process.js';
import { send } from '../helpers/envoy/http-client.js';
import { startStack, type Stack } from '../helpers/envoy/stack.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { TRANSPORTS } from '../helpers/transports.js';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: reads }
spec:
  target: { services: ["shop"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/items/{*}"] } }] }]
`;

/** Envoy health-checks each instance this often and drops it after one NOT_SERVING. */
const HEALTH_INTERVAL_MS = 100;
/**
 * The drain settings under test: NOT_SERVING for long enough that Envoy's health checker has
 * seen it (interval + its timeout, with margin for a loaded machine), then in-flight Checks
 * get up to drainTimeout.
 */
const SHUTDOWN = { notServingDelay: '1500ms', drainTimeout: '2s' };

/** The harness' meshwarden cluster with every instance as an endpoint and a fast health check. */
function meshwardenPool(addresses: readonly string[]): Record<string, unknown> {
  const clusters = addresses.map((address) => meshwardenCluster(address));
  const first = clusters[0]!;
  const endpoints = clusters.flatMap((c) => ((c['load_assignment'] as { endpoints: { lb_endpoints: unknown[] }[] }).endpoints[0]!.lb_endpoints));
  const [check] = first['health_checks'] as Record<string, unknown>[];
  return {
    ...first,
    // Never a Check to an endpoint Envoy knows is unhealthy: with Envoy's default panic threshold (50 %) and
    // LEAST_REQUEST, Envoy was seen in panic (lb_healthy_panic > 0) with one of two endpoints down, sending Checks to it
    common_lb_config: { healthy_panic_threshold: { value: 0 } },
    health_checks: [{ ...check, timeout: '0.25s', interval: `${HEALTH_INTERVAL_MS / 1000}s`, no_traffic_interval: `${HEALTH_INTERVAL_MS / 1000}s`, unhealthy_threshold: 1, healthy_threshold: 1 }],
    load_assignment: { cluster_name: 'meshwarden', endpoints: [{ lb_endpoints: endpoints }] },
  };
}

/** Envoy's view of each meshwarden endpoint: `HOST:PORT` → healthy. */
async function endpointHealth(envoy: EnvoyProcess): Promise<Record<string, boolean>> {
  const { body } = await envoy.adminGet('/clusters?format=json');
  type HostStatus = { address: { socket_address: { address: string; port_value: number } }; health_status: Record<string, unknown> };
  const cluster = (JSON.parse(body) as { cluster_statuses: { name: string; host_statuses?: HostStatus[] }[] })
    .cluster_statuses.find((c) => c.name === 'meshwarden');
  return Object.fromEntries((cluster?.host_statuses ?? []).map((h) => [
    `${h.address.socket_address.address}:${h.address.socket_address.port_value}`,
    h.health_status['eds_health_status'] === 'HEALTHY' && h.health_status['failed_active_health_check'] === undefined,
  ]));
}

async function counters(envoy: EnvoyProcess): Promise<Record<string, number>> {
  const { body } = await envoy.adminGet('/stats?format=json&filter=^cluster\\.meshwarden\\.');
  const stats = (JSON.parse(body) as { stats: { name?: string; value?: number }[] }).stats;
  return Object.fromEntries(stats.filter((s) => s.name !== undefined && typeof s.value === 'number').map((s) => [s.name!, s.value!]));
}

describeWithEnvoy.each(TRANSPORTS)('a rolling replacement of meshwarden behind Envoy (meshwarden on %s)', (transport) => {
  const configDir = tempDir();
  const secondDir = tempDir();
  const config = { policies: ['./policies.yaml'], shutdown: SHUTDOWN };
  let stack: Stack;
  /** The other instance, started before the stack so that Envoy knows both from the start. */
  let second: ServerProcess;
  const started: ServerProcess[] = [];

  beforeAll(async () => {
    writeFileSync(join(secondDir, 'policies.yaml'), POLICIES);
    second = await startServer({ configText: stringify({ ...config, grpc: { transport }, decisionLog: { output: 'off' } }), configDir: secondDir });
    stack = await startStack({
      transport,
      configDir,
      meshwardenConfig: stringify(config),
      files: { 'policies.yaml': POLICIES },
      envoy: ({ grpc, upstream }) => bootstrap({
        listeners: [httpListener({ name: 'inbound', routes: [{ name: 'shop', match: { prefix: '/' }, service: 'shop' }] })],
        clusters: [appCluster(upstream), meshwardenPool([grpc, second.grpc])],
      }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await Promise.all([second, ...started].map((m) => m?.stop('SIGKILL')));
  });

  it('loses no request while each instance in turn is drained with SIGTERM and started again', async () => {
    const instances = [stack.meshwarden, second];
    await expect.poll(() => endpointHealth(stack.envoy), { timeout: 5_000 })
      .toEqual({ [instances[0]!.grpc]: true, [instances[1]!.grpc]: true });

    // traffic: 4 callers, one request at a time each, alternately allowed and denied, until the roll is done (at most 8 s)
    const answers: { path: string; status: number | string; at: number }[] = [];
    let rolling = true;
    const deadline = Date.now() + 8_000;
    const caller = async (id: number) => {
      for (let i = 0; i < 5_000 && rolling && Date.now() < deadline; i++) {
        const path = i % 2 === 0 ? `/items/${id}-${i}` : `/orders/${id}-${i}`;
        const status = await send(stack.port('inbound'), path).then((a) => a.status, (e: Error) => e.message);
        answers.push({ path, status, at: Date.now() - t0 });
      }
    };
    const t0 = Date.now();
    const marks: string[] = [];
    const traffic = Promise.all([0, 1, 2, 3].map(caller));

    try {
      for (const [index, instance] of instances.entries()) {
        await sleep(600);
        const drainedAt = Date.now();
        marks.push(`SIGTERM ${index} at ${drainedAt - t0} ms`);
        const code = await instance.stop('SIGTERM');
        marks.push(`exited at ${Date.now() - t0}`);
        expect(code).toBe(0);
        const again = await startServer({
          args: ['--config', join([configDir, secondDir][index]!, 'meshwarden.yaml'), '--grpc', instance.grpc],
        });
        started.push(again);
        marks.push(`listening again at ${Date.now() - t0}`);
        await expect.poll(async () => (await endpointHealth(stack.envoy))[instance.grpc], { timeout: 5_000, interval: 50 }).toBe(true);
        marks.push(`healthy in Envoy at ${Date.now() - t0}`);
      }
      await sleep(300);
    } finally {
      rolling = false;
      await traffic;
    }

    const failed = answers.filter((a) => a.status !== (a.path.startsWith('/items/') ? 200 : 403));
    console.log(`[${transport}] ${answers.length} requests through the roll, ${failed.length} failed${failed.length > 0 ? ` (${JSON.stringify(failed[0])} … ${JSON.stringify(failed.at(-1))})` : ""}; ${marks.join(', ')}`);
    expect(answers.length).toBeGreaterThan(200);
    expect(failed).toEqual([]);
    expect(await counters(stack.envoy)).toMatchObject({ 'cluster.meshwarden.lb_healthy_panic': 0 });
  });
});
