/**
 * What an operator scrapes from a real server process: `/metrics` moves with every Check
 * (decisions by reason, the latency histogram, the decision cache), the policy gauges name
 * the snapshot in service, and `/policy` shows provenance without policy contents or secrets.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { adminGet, metric, policyInfo, Scrape } from './operations-support.js';

const CART = 'spiffe://mesh.test/ns/shop/sa/cart';
const BATCH = 'spiffe://mesh.test/ns/shop/sa/batch';

const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders-from-cart }
spec:
  target: { services: ["orders"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${CART}"] } }]
      to: [{ operation: { paths: ["/orders/{*}"] } }]
`;

let dir: string;
let server: ServerProcess;
let client: CheckClient;

beforeAll(async () => {
  dir = tempDir('meshwarden-ops-metrics-');
  writeFileSync(join(dir, 'orders.yaml'), POLICY);
  server = await startServer({
    configDir: dir,
    configText: [
      'policies: [orders.yaml]',
      'reload: { watch: false }',
      'decisionLog: { output: "off" }',
    ].join('\n'),
  });
  client = new CheckClient(server.grpc, { deadlineMs: 10_000 });
});

afterAll(async () => {
  client?.close();
  await server?.stop();
});

const allowed = () => httpCheck({ principal: CART, path: '/orders/1', service: 'orders' });
const denied = () => httpCheck({ principal: BATCH, path: '/orders/1', service: 'orders' });

describe('/metrics as Checks are made', () => {
  it('counts decisions by verdict and reason, observes each in the latency histogram, and counts cache hits and misses', async () => {
    const before = await Scrape.of(server.admin);
    const allow = { decision: 'allow', reason: 'policy_allow' };
    const deny = { decision: 'deny', reason: 'default_deny' };
    for (let i = 0; i < 3; i++) expect(structToJson((await client.check(allowed())).dynamicMetadata)).toMatchObject(allow);
    for (let i = 0; i < 2; i++) expect(structToJson((await client.check(denied())).dynamicMetadata)).toMatchObject(deny);

    const after = await Scrape.of(server.admin);
    const delta = (name: string, labels: Record<string, string> = {}) => after.value(name, labels) - before.value(name, labels);
    expect(delta('meshwarden_checks_total', allow)).toBe(3);
    expect(delta('meshwarden_checks_total', deny)).toBe(2);
    expect(delta('meshwarden_check_duration_seconds_count')).toBe(5);
    expect(delta('meshwarden_check_duration_seconds_bucket', { le: '+Inf' })).toBe(5);
    expect(delta('meshwarden_check_duration_seconds_sum')).toBeGreaterThan(0);
    // the first of each identical request misses, the others hit the cached decision
    expect(delta('meshwarden_decision_cache_misses_total')).toBe(2);
    expect(delta('meshwarden_decision_cache_hits_total')).toBe(3);
    expect(after.value('meshwarden_decision_cache_entries')).toBeGreaterThanOrEqual(2);
  });

  it('counts an unreadable request as invalid_request, by its reason', async () => {
    const count = metric(server.admin, 'meshwarden_checks_total', { decision: 'invalid_request', reason: 'invalid_path' });
    const before = await count();
    await client.check(httpCheck({ principal: CART, path: '/orders%2F1', service: 'orders' }));
    expect(await count()).toBe(before + 1);
  });

  it('counts a request over a size limit as invalid_request, reason request_too_large', async () => {
    const count = metric(server.admin, 'meshwarden_checks_total', { decision: 'invalid_request', reason: 'request_too_large' });
    const before = await count();
    const answer = await client.check(httpCheck({ principal: CART, path: `/orders/${'a/../'.repeat(20_000)}1`, service: 'orders' }));
    expect(answer.deniedResponse?.status?.code).toBe('BadRequest');
    expect(await count()).toBe(before + 1);
  });

  it('shows what clients hold on the gRPC listener: open connections, buffered request bytes', async () => {
    await client.check(allowed());
    const scrape = await Scrape.of(server.admin);
    expect(scrape.value('meshwarden_grpc_connections')).toBeGreaterThanOrEqual(1);
    expect(scrape.value('meshwarden_grpc_buffered_request_bytes')).toBe(0);
  });

  it('names the policy snapshot in service: generation, rules, one info series with the hash /policy shows', async () => {
    const scrape = await Scrape.of(server.admin);
    const info = await policyInfo(server.admin);
    expect(scrape.value('meshwarden_policy_generation')).toBe(1);
    expect(scrape.value('meshwarden_policy_rules')).toBe(1);
    expect(scrape.value('meshwarden_policy_reloads_total', { result: 'success' })).toBe(1);
    expect(scrape.value('meshwarden_policy_reloads_total', { result: 'failure' })).toBe(0);
    expect(scrape.samples.filter((s) => s.name === 'meshwarden_policy_info')).toEqual([
      { name: 'meshwarden_policy_info', labels: { hash: info.hash }, value: 1 },
    ]);
    expect(scrape.value('meshwarden_policy_last_reload_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 3600);
  });

  it('moves the generation and the info series on SIGHUP, dropping the old hash', async () => {
    const old = await policyInfo(server.admin);
    writeFileSync(join(dir, 'orders.yaml'), POLICY.replace('/orders/{*}', '/orders/{**}'));
    server.child.kill('SIGHUP');
    await expect.poll(metric(server.admin, 'meshwarden_policy_generation'), { timeout: 15_000 }).toBe(2);
    const scrape = await Scrape.of(server.admin);
    const info = await policyInfo(server.admin);
    expect(info.hash).not.toBe(old.hash);
    expect(scrape.samples.filter((s) => s.name === 'meshwarden_policy_info').map((s) => s.labels)).toEqual([{ hash: info.hash }]);
  });

  it('serves the Prometheus text format', async () => {
    const response = await fetch(`http://${server.admin}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toMatch(/^# HELP meshwarden_checks_total /m);
  });
});

describe('/policy', () => {
  it('shows generation, hash, counts and the files with their digests', async () => {
    const info = await policyInfo(server.admin);
    expect(info).toMatchObject({ loaded: true, policies: 1, rules: 1, defaultAction: 'DENY' });
    expect(info.generation).toBeGreaterThanOrEqual(1);
    expect(info.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(info.files).toEqual([{ path: join(dir, 'orders.yaml'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(new Date(String(info['loadedAt'])).getTime()).toBeGreaterThan(0);
  });

  it('shows no policy contents: no rule, identity or path', async () => {
    const { status, body } = await adminGet(server.admin, '/policy');
    expect(status).toBe(200);
    for (const secret of [CART, 'mesh.test', '/orders/', 'orders-from-cart', 'principals', 'decisionLog']) {
      expect(body).not.toContain(secret);
    }
  });

  it('is read-only', async () => {
    const response = await fetch(`http://${server.admin}/policy`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
  });
});
