/**
 * Envoy's own access log tells why: decision, policy, rule, reason and decision id read from
 * meshwarden's dynamic metadata (`%DYNAMIC_METADATA(envoy.filters.http.ext_authz:…)%`), for
 * allows and denies alike, and the decision id is the one in meshwarden's decision log.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send } from '../helpers/envoy/http-client.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: shop-reads }
spec:
  target: { services: ["shop"] }
  action: ALLOW
  rules:
    - to: [{ operation: { methods: ["GET"], paths: ["/cart"] } }]
    - to: [{ operation: { methods: ["GET"], paths: ["/items/{*}", "/admin/stats"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: shop-no-admin }
spec:
  target: { services: ["shop"] }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin/{**}"] } }] }]
`;

const ROUTES = [
  { name: 'health', match: { path: '/healthz' }, authzDisabled: true },
  { name: 'shop', match: { prefix: '/' }, service: 'shop' },
];

describeWithEnvoy.each(TRANSPORTS)('Envoy\'s access log of meshwarden\'s decisions (meshwarden on %s)', (transport) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      transport,
      meshwardenConfig: 'policies: [./policies.yaml]',
      files: { 'policies.yaml': POLICIES },
      envoy: ({ grpc, upstream }) => bootstrap({
        listeners: [httpListener({ name: 'inbound', routes: ROUTES })],
        clusters: [appCluster(upstream), meshwardenCluster(grpc)],
      }),
    });
  });
  afterAll(async () => stack?.stop());

  /**
   * Sends one request and returns Envoy's access log line for it, found by the x-request-id
   * Envoy gave it (Envoy replaces a caller's own at this edge): the workload echoes it, a deny's body names it.
   */
  async function accessLogOf(path: string, expectedStatus: number): Promise<Record<string, unknown>> {
    const answer = await send(stack.port('inbound'), path);
    expect(answer.status).toBe(expectedStatus);
    const body = answer.json();
    const requestId = answer.headers['x-echo'] ? (body['headers'] as Record<string, string>)['x-request-id'] : body['request_id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const find = async () => (await stack.envoy.accessLog(1, 1_000)).find((line) => line['request_id'] === requestId);
    await expect.poll(find, { timeout: 5_000 }).toBeTruthy();
    return (await find())!;
  }

  const loggedByMeshwarden = async (decisionId: unknown) => {
    const line = () => stack.meshwarden.decisions.find((l) => l['decision_id'] === decisionId);
    await expect.poll(line).toBeTruthy();
    return line()!;
  };

  it('names the allowing policy and rule of an allowed request', async () => {
    const line = await accessLogOf('/items/7', 200);
    expect(line).toMatchObject({ status: 200, decision: 'allow', policy: 'shop-reads', rule: 1, reason: 'policy_allow' });
    expect(line['decision_id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(await loggedByMeshwarden(line['decision_id'])).toMatchObject({ decision: 'allow', policy: 'shop-reads', rule: 1, path: '/items/7' });
  });

  it('names the denying policy and rule of a request an explicit DENY refused, with Envoy\'s UAEX flag', async () => {
    const line = await accessLogOf('/admin/stats', 403);
    expect(line).toMatchObject({ status: 403, flags: 'UAEX', decision: 'deny', policy: 'shop-no-admin', rule: 0, reason: 'policy_deny' });
    expect(await loggedByMeshwarden(line['decision_id'])).toMatchObject({ decision: 'deny', policy: 'shop-no-admin' });
  });

  it('says default_deny with no policy for a request nothing allowed', async () => {
    const line = await accessLogOf('/checkout', 403);
    expect(line).toMatchObject({ status: 403, decision: 'deny', reason: 'default_deny', policy: null, rule: null });
    expect(await loggedByMeshwarden(line['decision_id'])).toMatchObject({ decision: 'deny', reason: 'default_deny' });
  });

  it('has no decision for a route where ext_authz is disabled', async () => {
    const line = await accessLogOf('/healthz', 200);
    expect(line).toMatchObject({ route: 'health', decision: null, decision_id: null });
  });
});
