/**
 * A live meshwarden (the built CLI, a real process) with admin.ui on, its policies written
 * for the live map's tests: an allowed flow, a denied one, one allowed but denied by a
 * dry-run policy, one allowed that no traffic uses (checkout → ledger); and the real Checks
 * that make the others.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckClient, httpCheck } from '../helpers/check-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

export const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
export const GUEST = 'spiffe://prod.example/ns/guest/sa/browser';
export const CART = 'spiffe://prod.example/ns/shop/sa/cart';
export const FRONTEND = 'spiffe://prod.example/ns/shop/sa/frontend';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: payments-api }
spec:
  target: { services: ["payments"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${CHECKOUT}"] } }]
      to: [{ operation: { methods: ["GET", "POST"], paths: ["/v1/charges", "/v1/charges/*"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: ledger-writers }
spec:
  target: { services: ["ledger"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${CHECKOUT}"] } }]
      to: [{ operation: { methods: ["POST"], paths: ["/entries"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders-from-shop }
spec:
  target: { services: ["orders"] }
  action: ALLOW
  rules:
    - from: [{ source: { namespaces: ["shop"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: no-guests }
spec:
  action: DENY
  rules:
    - from: [{ source: { namespaces: ["guest"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: cart-lockdown }
spec:
  target: { services: ["orders"] }
  action: DENY
  mode: dry-run
  rules:
    - from: [{ source: { principals: ["${CART}"] } }]
`;

/** The flows the map must show: [source, destination, how it is drawn]. */
export const EXPECTED_EDGES = [
  [CHECKOUT, 'payments', 'allowed'],
  [GUEST, 'payments', 'denied'],
  [CART, 'orders', 'dry-run-denied'],
  [FRONTEND, 'orders', 'allowed'],
] as const;

export interface LiveMesh {
  readonly server: ServerProcess;
  readonly client: CheckClient;
  readonly adminUrl: string;
  close(): Promise<void>;
}

export async function startLiveMesh(args: readonly string[] = []): Promise<LiveMesh> {
  const dir = tempDir('meshwarden-live-map-');
  writeFileSync(join(dir, 'policies.yaml'), POLICIES);
  const server = await startServer({
    configDir: dir,
    configText: ['policies: ["policies.yaml"]', 'decisionLog: { output: "off" }', 'admin: { ui: true }'].join('\n'),
    args,
  });
  const client = new CheckClient(server.grpc);
  return {
    server,
    client,
    adminUrl: `http://${server.admin}`,
    close: async () => {
      client.close();
      await server.stop();
    },
  };
}

/** The Checks behind EXPECTED_EDGES, as Envoy sends them. */
export async function sendMeshTraffic(client: CheckClient): Promise<void> {
  for (let i = 0; i < 3; i++) await client.check(httpCheck({ principal: CHECKOUT, method: 'POST', path: '/v1/charges', service: 'payments' }));
  for (const id of [7, 8]) await client.check(httpCheck({ principal: GUEST, path: `/v1/charges/${id}`, service: 'payments' }));
  await client.check(httpCheck({ principal: CART, path: '/v1/orders/42', service: 'orders' }));
  await client.check(httpCheck({ principal: FRONTEND, path: '/v1/orders', service: 'orders' }));
}
