/**
 * An allowed request through a real Envoy reaches the workload carrying the caller's SPIFFE ID
 * (from its mTLS certificate) in `x-meshwarden-principal`; a copy of that header written by
 * the client never reaches the workload, whether the caller has an identity or not.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CART } from '../helpers/identity-fixtures.js';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send, type ClientTls } from '../helpers/envoy/http-client.js';
import { MeshPki } from '../helpers/envoy/mesh-pki.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import { TestPki } from '../identity/helpers/pki.js';

const POLICIES = `
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
metadata: { name: status-for-anyone }
spec:
  target: { services: ["status"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/status"] } }] }]
`;

const ROUTES = [
  { name: 'orders', match: { prefix: '/orders/' }, service: 'orders' },
  { name: 'status', match: { path: '/status' }, service: 'status' },
];

const SPOOFED = 'spiffe://a.test/ns/shop/sa/admin';

describeWithEnvoy.each(TRANSPORTS)('an allowed request through Envoy (meshwarden on %s)', (transport) => {
  let stack: Stack;
  let mesh: MeshPki;
  let cart: ClientTls;

  beforeAll(async () => {
    const rootA = new TestPki().root('root-a', 'a.test');
    mesh = new MeshPki(rootA);
    cart = mesh.svid('cart', CART, rootA);
    stack = await startStack({
      transport,
      meshwardenConfig: 'policies: [./policies.yaml]',
      files: { 'policies.yaml': POLICIES },
      envoy: ({ grpc, upstream }) => bootstrap({
        listeners: [
          httpListener({ name: 'mtls', routes: ROUTES, tls: mesh.serving([rootA]) }),
          httpListener({ name: 'plain', routes: ROUTES }),
        ],
        clusters: [appCluster(upstream), meshwardenCluster(grpc)],
      }),
    });
  });
  afterAll(async () => stack?.stop());

  /** The headers the workload received, as it echoed them. */
  const seenHeaders = (body: Record<string, unknown>) => body['headers'] as Record<string, string | string[] | undefined>;

  it('reaches the workload with the caller SPIFFE ID from its certificate in x-meshwarden-principal', async () => {
    const answer = await send(stack.port('mtls'), '/orders/42', { tls: cart });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-echo']).toBe('upstream');
    expect(seenHeaders(answer.json())['x-meshwarden-principal']).toBe(CART);
  });

  it('replaces an x-meshwarden-principal the caller wrote with the identity it proved', async () => {
    const answer = await send(stack.port('mtls'), '/orders/43', { tls: cart, headers: { 'x-meshwarden-principal': [SPOOFED, SPOOFED] } });
    expect(answer.status).toBe(200);
    expect(seenHeaders(answer.json())['x-meshwarden-principal']).toBe(CART);
  });

  it('removes an x-meshwarden-principal written by a caller with no identity, whatever its case', async () => {
    const answer = await send(stack.port('plain'), '/status', { headers: { 'X-Meshwarden-Principal': SPOOFED } });
    expect(answer.status).toBe(200);
    expect(seenHeaders(answer.json())).not.toHaveProperty('x-meshwarden-principal');
  });

  it('is the only way a request reaches the workload: the same caller without its certificate is denied', async () => {
    const before = stack.upstream.saw('/orders/').length;
    const answer = await send(stack.port('plain'), '/orders/44', { headers: { 'x-meshwarden-principal': CART } });
    expect(answer.status).toBe(403);
    expect(stack.upstream.saw('/orders/')).toHaveLength(before);
  });
});
