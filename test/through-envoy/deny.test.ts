/**
 * What a refused caller gets through a real Envoy, and that the workload never sees it:
 * 403 with meshwarden's JSON body, 401 with a Bearer challenge for a bad token, 400 for a
 * path that could walk around a policy (Envoy's own 400 for `%2F`, meshwarden's for a malformed
 * escape; the dot segments Envoy resolves are judged as the path they resolve to).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CART, createIdentityWorld, svid, type IdentityWorld } from '../helpers/identity-fixtures.js';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send, type Answer } from '../helpers/envoy/http-client.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import { makeKey } from '../identity/helpers/tokens.js';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: catalog-public }
spec:
  target: { services: ["catalog"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/public/{**}"] } }] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders-from-cart }
spec:
  target: { services: ["orders"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${CART}"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/orders/{*}"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: intranet-by-address }
spec:
  target: { services: ["intranet"] }
  action: ALLOW
  rules:
    - from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }]
    - from: [{ source: { ipBlocks: ["127.0.0.1/32"] } }]
      to: [{ operation: { paths: ["/intranet/loopback"] } }]
`;

const ROUTES = [
  { name: 'orders', match: { prefix: '/orders/' }, service: 'orders' },
  { name: 'intranet', match: { prefix: '/intranet/' }, service: 'intranet' },
  { name: 'catalog', match: { prefix: '/' }, service: 'catalog' },
];

describeWithEnvoy.each(TRANSPORTS)('a refused request through Envoy (meshwarden on %s)', (transport) => {
  let world: IdentityWorld;
  let stack: Stack;

  beforeAll(async () => {
    world = await createIdentityWorld();
    stack = await startStack({
      transport,
      meshwardenConfig: world.configText(),
      configDir: world.dir,
      files: { 'policies.yaml': POLICIES },
      envoy: ({ grpc, upstream }) => bootstrap({
        listeners: [httpListener({ name: 'inbound', routes: ROUTES })],
        clusters: [appCluster(upstream), meshwardenCluster(grpc)],
      }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  /** Sends a request and asserts the workload saw nothing of it. */
  async function refused(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const before = stack.upstream.requests.length;
    const answer = await send(stack.port('inbound'), path, { headers });
    expect(answer.headers['x-echo']).toBeUndefined();
    expect(stack.upstream.requests).toHaveLength(before);
    return answer;
  }

  /** meshwarden's decision log line for the request id the caller was told. */
  async function decisionFor(answer: Answer): Promise<Record<string, unknown>> {
    const requestId = answer.json()['request_id'];
    const line = () => stack.meshwarden.decisions.find((l) => l['request_id'] === requestId);
    await expect.poll(line).toBeTruthy();
    return line()!;
  }

  it('is 403 with meshwarden\'s JSON body naming the request id, and never reaches the workload', async () => {
    const answer = await refused('/orders/42');
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['www-authenticate']).toBeUndefined();
    expect(answer.json()).toEqual({ error: 'forbidden', request_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny', destination: 'orders', path: '/orders/42' });
  });

  it('is 401 with a Bearer challenge when the token is present but invalid, and never reaches the workload', async () => {
    const forged = await svid(makeKey('a1')); // the right kid, the wrong key
    const answer = await refused('/public/index.html', { authorization: `Bearer ${forged}` });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json()).toMatchObject({ error: 'unauthenticated' });
    expect(await decisionFor(answer)).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_token' });
  });

  it('is 400 from Envoy for an encoded slash, before meshwarden is asked', async () => {
    const checks = stack.meshwarden.decisions.length;
    const answer = await refused('/public/..%2F..%2Forders/42');
    expect(answer.status).toBe(400);
    expect(stack.meshwarden.decisions).toHaveLength(checks);
  });

  it('is 400 from meshwarden for a path Envoy passes but no server reads one way (a malformed %-escape)', async () => {
    const answer = await refused('/public/%zz');
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ error: 'invalid_request' });
    const line = () => stack.meshwarden.decisions.find((l) => l['reason'] === 'invalid_path' && String(l['detail']).includes('malformed_percent_encoding'));
    await expect.poll(line).toMatchObject({ decision: 'invalid_request' });
  });

  // A request that cannot be read has no AccessRequest; its decision log line still names the
  // request id its 400 body gave the caller, so the two can be matched.
  it('logs that 400 under the request id the caller was told', async () => {
    const answer = await refused('/public/%zz/again');
    expect(answer.status).toBe(400);
    const requestId = answer.json()['request_id'];
    await expect.poll(() => stack.meshwarden.decisions.find((l) => l['request_id'] === requestId), { timeout: 1_000 }).toBeTruthy();
  });

  // Envoy's normalize_path resolves each of these spellings before ext_authz: meshwarden and
  // the workload see one path, /orders/42, so a policy on /public/{**} cannot be walked around.
  it.each([
    '/public/../orders/42',
    '/public/%2e%2e/orders/42',
    '/public/..;/orders/42',
    '/public\\..\\orders/42',
  ])('judges %s as the /orders/42 Envoy normalized it to: denied', async (path) => {
    const answer = await refused(path);
    expect(answer.status).toBe(403);
    expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', destination: 'orders', path: '/orders/42' });
  });

  it('is 403 for an address the caller only claims in X-Forwarded-For: policy sees the TCP peer', async () => {
    const answer = await refused('/intranet/wiki', { 'x-forwarded-for': '10.1.2.3' });
    expect(answer.status).toBe(403);
    expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny', destination: 'intranet' });
    const fromLoopback = await send(stack.port('inbound'), '/intranet/loopback', { headers: { 'x-forwarded-for': '10.1.2.3' } });
    expect(fromLoopback.status).toBe(200);
  });

  it('lets the same paths through when policy allows them, so the refusals above are the policy\'s', async () => {
    const answer = await send(stack.port('inbound'), '/public/a/../index.html');
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ url: '/public/index.html' });
  });
});
