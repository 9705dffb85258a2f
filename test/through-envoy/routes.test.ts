/**
 * Envoy's routes decide what meshwarden judges: a route's `context_extensions.service`
 * (ExtAuthzPerRoute check_settings) selects the destination's policies, before the
 * `:authority`; a route with ext_authz disabled (/healthz) is never sent to meshwarden.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send, type Answer } from '../helpers/envoy/http-client.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';

// orders' policy names every route's paths: only the destination can keep it from applying
const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders-items }
spec:
  target: { services: ["orders"] }
  action: ALLOW
  rules:
    - to: [{ operation: { methods: ["GET"], paths: ["/orders-api/items/{*}", "/catalog-api/items/{*}", "/bare/items/{*}"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: catalog-public }
spec:
  target: { services: ["catalog"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/catalog-api/public/{*}"] } }] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: tenant-acme }
spec:
  target: { services: ["tenant"] }
  action: ALLOW
  rules: [{ when: [{ key: "request.headers[x-tenant]", values: ["acme"] }] }]
`;

const ROUTES = [
  { name: 'health', match: { path: '/healthz' }, authzDisabled: true },
  { name: 'orders', match: { prefix: '/orders-api/' }, service: 'orders', namespace: 'shop' },
  { name: 'catalog', match: { prefix: '/catalog-api/' }, service: 'catalog', namespace: 'shop' },
  { name: 'bare', match: { prefix: '/bare/' } },
  { name: 'tenant', match: { prefix: '/tenant/' }, service: 'tenant' },
];

describeWithEnvoy.each(TRANSPORTS)('Envoy routes and meshwarden destinations (meshwarden on %s)', (transport) => {
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

  const get = (path: string, host?: string) => send(stack.port('inbound'), path, host ? { headers: { host } } : {});

  /** meshwarden's decision log line for an answer (the request id is echoed by the workload, or in a deny's body). */
  async function decisionFor(answer: Answer): Promise<Record<string, unknown>> {
    const body = answer.json();
    const requestId = answer.status === 200 ? (body['headers'] as Record<string, string>)['x-request-id'] : body['request_id'];
    const line = () => stack.meshwarden.decisions.find((l) => l['request_id'] === requestId);
    await expect.poll(line).toBeTruthy();
    return line()!;
  }

  it('judges a request on the orders route by the policies of service orders', async () => {
    const answer = await get('/orders-api/items/1');
    expect(answer.status).toBe(200);
    expect(await decisionFor(answer)).toMatchObject({ decision: 'allow', destination: 'orders', policy: 'orders-items' });
  });

  it('judges the same path on the catalog route by the policies of service catalog, where orders\' do not apply', async () => {
    const answer = await get('/catalog-api/items/1');
    expect(answer.status).toBe(403);
    expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny', destination: 'catalog' });
    const open = await get('/catalog-api/public/1');
    expect(open.status).toBe(200);
    expect(await decisionFor(open)).toMatchObject({ decision: 'allow', destination: 'catalog', policy: 'catalog-public' });
  });

  it('takes the route\'s service before the :authority the caller chose', async () => {
    const answer = await get('/catalog-api/items/2', 'orders');
    expect(answer.status).toBe(403);
    expect(await decisionFor(answer)).toMatchObject({ destination: 'catalog', host: 'orders' });
  });

  it('decides on the request header a destination\'s policy names', async () => {
    const port = stack.port('inbound');
    const acme = await send(port, '/tenant/reports', { headers: { 'x-tenant': 'acme' } });
    expect(acme.status).toBe(200);
    expect(await decisionFor(acme)).toMatchObject({ decision: 'allow', policy: 'tenant-acme' });
    expect((await send(port, '/tenant/reports', { headers: { 'x-tenant': 'globex' } })).status).toBe(403);
    expect((await send(port, '/tenant/reports')).status).toBe(403);
  });

  it('falls back to the :authority on a route that sets no service', async () => {
    const toOrders = await get('/bare/items/3', 'orders');
    expect(toOrders.status).toBe(200);
    expect(await decisionFor(toOrders)).toMatchObject({ decision: 'allow', destination: 'orders' });
    const toNowhere = await get('/bare/items/3', 'inventory');
    expect(toNowhere.status).toBe(403);
    expect(await decisionFor(toNowhere)).toMatchObject({ decision: 'deny', destination: 'inventory' });
  });

  it('sends /healthz, where ext_authz is disabled, to the workload without asking meshwarden', async () => {
    await get('/orders-api/items/4'); // at least one Check is counted before
    await expect.poll(async () => checksCounted(await stack.metrics())).toBeGreaterThan(0);
    const counted = checksCounted(await stack.metrics());
    const logged = stack.meshwarden.decisions.length;
    for (let i = 0; i < 3; i++) {
      const answer = await get('/healthz');
      expect(answer.status).toBe(200);
      expect(answer.json()).toMatchObject({ url: '/healthz' });
    }
    expect(stack.upstream.saw('/healthz')).toHaveLength(3);
    // a Check made after the health checks is logged and counted: the log and metrics are live
    await get('/orders-api/items/5');
    await expect.poll(() => stack.meshwarden.decisions.length).toBe(logged + 1);
    expect(stack.meshwarden.decisions.filter((l) => l['path'] === '/healthz')).toEqual([]);
    expect(checksCounted(await stack.metrics())).toBe(counted + 1);
  });
});

/** The sum of meshwarden_checks_total over its labels. */
function checksCounted(exposition: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    const match = /^meshwarden_checks_total(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+?\d+)?)$/.exec(line);
    if (match) total += Number(match[1]);
  }
  return total;
}
