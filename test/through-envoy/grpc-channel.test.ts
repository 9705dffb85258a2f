/**
 * The gRPC channel between Envoy and meshwarden, as Envoy drives it: Envoy health-checks the
 * Authorization service and finds it SERVING, many Checks share one HTTP/2 connection, a unix
 * socket serves as well as TCP, and connections meshwarden retires (idle, age) cost no request
 * its answer. (Fail-closed, bodies and large header sets: failure-closed and bodies-and-headers.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import type { EnvoyProcess } from '../helpers/envoy/envoy-process.js';
import { send } from '../helpers/envoy/http-client.js';
import { TRANSPORTS, startStack, type Stack, type Transport } from '../helpers/envoy/stack.js';
import { tempDir } from '../helpers/server-process.js';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: reads }
spec:
  target: { services: ["shop"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/items/{*}"] } }] }]
`;

const SHOP = [{ name: 'shop', match: { prefix: '/' }, service: 'shop' }];

function start(transport: Transport, config = '', args: readonly string[] = [], cluster: Parameters<typeof meshwardenCluster>[1] = {}): Promise<Stack> {
  return startStack({
    transport,
    meshwardenArgs: args,
    meshwardenConfig: `policies: [./policies.yaml]\n${config}`,
    files: { 'policies.yaml': POLICIES },
    envoy: ({ grpc: address, upstream }) => bootstrap({
      listeners: [httpListener({ name: 'inbound', routes: SHOP })],
      clusters: [appCluster(upstream), meshwardenCluster(address, cluster)],
    }),
  });
}

/** Envoy's counters whose names start with `prefix`, by name. */
async function counters(envoy: EnvoyProcess, prefix: string): Promise<Record<string, number>> {
  const { body } = await envoy.adminGet(`/stats?format=json&filter=${encodeURIComponent(`^${prefix.replaceAll('.', '\\.')}`)}`);
  const stats = (JSON.parse(body) as { stats: { name?: string; value?: number }[] }).stats;
  return Object.fromEntries(stats.filter((s) => s.name !== undefined && typeof s.value === 'number').map((s) => [s.name!, s.value!]));
}

/** `count` requests, `concurrency` at a time; the statuses in order. */
async function burst(stack: Stack, count: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = new Array<number>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) statuses[i] = (await send(stack.port('inbound'), i % 2 === 0 ? `/items/${i}` : `/orders/${i}`)).status;
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => (i % 2 === 0 ? 200 : 403));

/**
 * Checks in bursts until 25 connections were retired (each one a chance to lose the Checks in
 * flight), at most 8 s: every answer is the policy's, and no Check was refused (a refused one
 * would have been retried, so none depended on the retry).
 */
async function recycleUnderTraffic(stack: Stack): Promise<void> {
  const statuses: number[] = [];
  const connections = async () => (await counters(stack.envoy, 'cluster.meshwarden.upstream_cx_'))['cluster.meshwarden.upstream_cx_total'] ?? 0;
  const until = Date.now() + 8_000;
  for (let i = 0; i < 1_000 && Date.now() < until && (await connections()) < 26; i++) statuses.push(...(await burst(stack, 40, 20)));
  expect(await connections()).toBeGreaterThan(10);
  expect(statuses.filter((status, i) => status !== expected(40)[i % 40])).toEqual([]);
  const retried = await counters(stack.envoy, 'cluster.meshwarden.upstream_rq_retry');
  expect(retried['cluster.meshwarden.upstream_rq_retry'] ?? 0).toBe(0);
}

describeWithEnvoy.each(TRANSPORTS)('the gRPC channel from Envoy to meshwarden (meshwarden on %s)', (transport) => {
  describe('with meshwarden\'s defaults', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await start(transport);
    });
    afterAll(async () => stack?.stop());

    it('is health-checked by Envoy over gRPC, which finds the Authorization service SERVING', async () => {
      await expect.poll(async () => (await counters(stack.envoy, 'cluster.meshwarden.health_check.'))['cluster.meshwarden.health_check.success'] ?? 0)
        .toBeGreaterThan(0);
      const health = await counters(stack.envoy, 'cluster.meshwarden.health_check.');
      expect(health['cluster.meshwarden.health_check.failure']).toBe(0);
      const { body } = await stack.envoy.adminGet('/clusters?format=json');
      const cluster = (JSON.parse(body) as { cluster_statuses: { name: string; host_statuses?: { health_status: Record<string, unknown> }[] }[] })
        .cluster_statuses.find((c) => c.name === 'meshwarden');
      expect(cluster?.host_statuses?.[0]?.health_status).toEqual({ eds_health_status: 'HEALTHY' });
    });

    it('decides 200 concurrent requests, 50 at a time, each as its policy says, over one HTTP/2 connection', async () => {
      const statuses = await burst(stack, 200, 50);
      expect(statuses).toEqual(expected(200));
      // Envoy's health checks have connections of their own, which these counters do not count
      const cluster = await counters(stack.envoy, 'cluster.meshwarden.upstream_');
      expect(cluster['cluster.meshwarden.upstream_cx_total']).toBe(1);
      expect(cluster['cluster.meshwarden.upstream_rq_total']).toBe(200);
      const authz = await counters(stack.envoy, 'http.inbound.ext_authz.');
      expect(authz).toMatchObject({ 'http.inbound.ext_authz.ok': 100, 'http.inbound.ext_authz.denied': 100, 'http.inbound.ext_authz.error': 0 });
    });

  });

  describe('over a unix socket, as envoy/sidecar-unix.yaml reaches meshwarden', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await start(transport, '', ['--grpc', `unix:${join(tempDir('meshwarden-sock-'), 'authz.sock')}`]);
    });
    afterAll(async () => stack?.stop());

    it('is health-checked and decides each request as its policy says', async () => {
      expect(stack.meshwarden.grpc).toMatch(/^unix:\//);
      expect(await burst(stack, 20, 5)).toEqual(expected(20));
      const health = await counters(stack.envoy, 'cluster.meshwarden.health_check.');
      expect(health).toMatchObject({ 'cluster.meshwarden.health_check.success': expect.any(Number), 'cluster.meshwarden.health_check.failure': 0 });
      expect(health['cluster.meshwarden.health_check.success']).toBeGreaterThan(0);
    });
  });

  describe('when meshwarden retires connections', () => {
    let idle: Stack;
    beforeAll(async () => {
      idle = await start(transport, 'grpc: { maxConnectionIdle: 300ms }');
    });
    afterAll(async () => idle?.stop());

    it('answers the first request after an idle connection was closed', async () => {
      for (let round = 0; round < 2; round++) {
        expect((await send(idle.port('inbound'), '/items/1')).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect((await send(idle.port('inbound'), '/items/2')).status).toBe(200);
      const cx = await counters(idle.envoy, 'cluster.meshwarden.upstream_cx_');
      expect(cx['cluster.meshwarden.upstream_cx_total']).toBeGreaterThan(1); // the idle connections really were closed
    });

    // Envoy's own max_connection_duration (the shipped configs set 5m) retires connections from
    // the client's side: Envoy stops sending on one before it ends, whatever the transport.
    it('loses no request, and has none refused, while Envoy recycles its connections by max_connection_duration', async () => {
      const recycled = await start(transport, '', [], { maxConnectionDuration: '0.2s' });
      try {
        await recycleUnderTraffic(recycled);
      } finally {
        await recycled.stop();
      }
    });

    // A connection retired at maxConnectionAge must not cost the Checks Envoy sent while the
    // GOAWAY was on its way. Native retires in two steps (a drain notice, a PING, then the real
    // GOAWAY: server/native/drain-notice.ts), so Envoy has stopped sending before any stream is
    // refused. grpc-js retires in one step: Envoy's Checks in flight are refused and retried
    // (refused-stream), and at 200 ms ages the retries of one Check can chain past its
    // timeout, now and then; it is not held to this test.
    it.skipIf(transport === 'grpc-js')('loses no request, and has none refused, while connections are recycled by age under steady traffic', async () => {
      const aged = await start(transport, 'grpc: { maxConnectionAge: 200ms, maxConnectionAgeGrace: 2s }');
      try {
        await recycleUnderTraffic(aged);
      } finally {
        await aged.stop();
      }
    });
  });
});
