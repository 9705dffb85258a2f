/**
 * `meshwarden serve` with a federated trust domain whose bundle comes from a SPIFFE bundle
 * endpoint (a real HTTPS server on 127.0.0.1, test CA) and a trust-domain alias onto it:
 * /readyz waits for the endpoint's first good bundle and names it while it fails; a caller of
 * the aliased domain is allowed by a policy written for cluster.local and denied by a DENY
 * written for it; the decision log keeps the SPIFFE ID it presented; /metrics counts the polls.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckClient, httpCheck } from '../helpers/check-client.js';
import { REPO_ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { BundleEndpointServer } from '../identity/helpers/bundle-endpoint-server.js';
import { TestPki, x509BundleKey } from '../identity/helpers/pki.js';
import { adminGet } from './operations-support.js';

const WAIT = { timeout: 10_000, interval: 50 };
const TWIN = 'spiffe://old-td.example/ns/shop/sa/cart';
const GRPC_OK = 0;

/** Written for cluster.local: an ALLOW for its cart on orders, a DENY for it on /admin/*. */
const POLICIES = join(REPO_ROOT, 'test/fixtures/alias-migration-policies.yaml');

describe('meshwarden serve with a bundle endpoint and a trust-domain alias', () => {
  const pki = new TestPki();
  const endpoint = new BundleEndpointServer(pki, pki.root('endpoint-ca', 'endpoint-ca.test'));
  const oldTdRoot = pki.root('old-td-root', 'old-td.example');
  let server: ServerProcess;
  let client: CheckClient;

  beforeAll(async () => {
    await endpoint.start();
    endpoint.answer({ status: 503, body: 'not yet' });
    const dir = tempDir();
    const config = `
policies: ["${POLICIES}"]
decisionLog: { allowSampleRate: 1 }
identity:
  trustDomains:
    old-td.example:
      bundleEndpoint: { url: "${endpoint.url}", profile: https_web, caFile: "${join(pki.dir, 'endpoint-ca.pem')}" }
  trustDomainAliases:
    cluster.local: [old-td.example]
`;
    server = await startServer({ configText: config, configDir: dir });
    client = new CheckClient(server.grpc);
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
    await endpoint.stop();
  });

  it('is not ready while the endpoint fails, naming it, and turns ready at its first good bundle', async () => {
    const readyz = await adminGet(server.admin, '/readyz');
    expect(readyz.status).toBe(503);
    expect(readyz.body).toContain(`bundle endpoint ${endpoint.url} of old-td.example: answered HTTP 503`);
    endpoint.serve({ spiffe_sequence: 7, keys: [x509BundleKey(oldTdRoot.pem)] });
    await vi.waitUntil(async () => (await adminGet(server.admin, '/readyz')).status === 200, WAIT);
  });

  it('allows a caller of the aliased domain by a policy written for cluster.local, logging the ID it presented', async () => {
    const answer = await client.check(httpCheck({ principal: TWIN, service: 'orders', path: '/v1/orders' }));
    expect(answer.status?.code ?? GRPC_OK).toBe(GRPC_OK);
    await expect
      .poll(() => server.decisions.find((line) => line['path'] === '/v1/orders'), WAIT)
      .toMatchObject({ decision: 'allow', source_principal: TWIN, policy: 'cart-reads-orders' });
  });

  it('denies it by a DENY written for cluster.local', async () => {
    const answer = await client.check(httpCheck({ principal: TWIN, service: 'orders', path: '/admin/users' }));
    expect(answer.status?.code).not.toBe(GRPC_OK);
    await expect
      .poll(() => server.decisions.find((line) => line['path'] === '/admin/users'), WAIT)
      .toMatchObject({ decision: 'deny', source_principal: TWIN, policy: 'no-cart-on-admin' });
  });

  it('counts the polls and shows the sequence and age of the bundle in service', async () => {
    const metrics = (await adminGet(server.admin, '/metrics')).body;
    expect(metrics).toMatch(/meshwarden_bundle_endpoint_fetches_total\{trust_domain="old-td.example",outcome="applied"\} 1\n/);
    expect(metrics).toMatch(/meshwarden_bundle_endpoint_fetches_total\{trust_domain="old-td.example",outcome="http_error"\} [1-9]/);
    expect(metrics).toMatch(/meshwarden_bundle_endpoint_sequence\{trust_domain="old-td.example"\} 7\n/);
    expect(metrics).toMatch(/meshwarden_bundle_endpoint_last_good_timestamp_seconds\{trust_domain="old-td.example"\} 1\d{9}/);
  });
});
