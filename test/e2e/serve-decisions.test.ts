/**
 * The built CLI, as a real process, serving the bundled example policies: every kind of
 * answer Envoy can get, over real gRPC, decoded with Envoy's official protos.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson, type Decoded } from '../helpers/check-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const BATCH = 'spiffe://prod.example/ns/checkout/sa/batch';
const FRONTEND = 'spiffe://cluster.local/ns/shop/sa/frontend';
const PAYMENTS = 'spiffe://prod.example/ns/payments/sa/payments';
const MONITORING = 'spiffe://prod.example/ns/monitoring/sa/prometheus';

let server: ServerProcess;
let client: CheckClient;

beforeAll(async () => {
  server = await startServer({
    configText: [
      `policies: ["${process.cwd()}/examples/policies"]`,
      'decisionLog: { output: stdout, allowSampleRate: 1 }',
    ].join('\n'),
  });
  client = new CheckClient(server.grpc);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
});

const metadata = (answer: Decoded) => structToJson(answer.dynamicMetadata);
const header = (answer: Decoded, name: string) => answer.okResponse?.headers?.find((h) => h.header.key === name)?.header.value;

describe('meshwarden serve with the example policies', () => {
  it('allows checkout to create a charge and tells the upstream who called', async () => {
    const answer = await client.check(httpCheck({ principal: CHECKOUT, method: 'POST', path: '/v1/charges', service: 'payments' }));
    expect(answer.status?.code ?? 0).toBe(0);
    expect(header(answer, 'x-meshwarden-principal')).toBe(CHECKOUT);
    expect(metadata(answer)).toMatchObject({ decision: 'allow', reason: 'policy_allow', policy: 'payments-api', rule: 0 });
  });

  it('denies a workload no policy names, with 403 and no policy detail in the body', async () => {
    const answer = await client.check(httpCheck({ principal: BATCH, path: '/v1/charges/ch_1', service: 'payments' }));
    expect(answer.status?.code).toBe(7);
    expect(answer.deniedResponse?.status?.code).toBe('Forbidden');
    expect(answer.deniedResponse?.body).not.toMatch(/payments-api|policy/);
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
  });

  it('lets an enforced DENY win over an ALLOW that matches too', async () => {
    // payments-api allows monitoring on /debug/*; deny-debug-endpoints denies it everywhere.
    const answer = await client.check(httpCheck({ principal: MONITORING, path: '/debug/pprof', service: 'payments' }));
    expect(answer.status?.code).toBe(7);
    expect(metadata(answer)).toMatchObject({ reason: 'policy_deny', policy: 'deny-debug-endpoints' });
    const metrics = await client.check(httpCheck({ principal: MONITORING, path: '/metrics', service: 'payments' }));
    expect(metadata(metrics)).toMatchObject({ decision: 'allow', policy: 'payments-api', rule: 1 });
  });

  it('answers 400 for a path that tries to smuggle a slash, and never allows it', async () => {
    const answer = await client.check(httpCheck({ principal: CHECKOUT, path: '/v1%2Fcharges', service: 'payments' }));
    expect(answer.status?.code).toBe(3);
    expect(answer.deniedResponse?.status?.code).toBe('BadRequest');
    expect(metadata(answer)).toMatchObject({ decision: 'invalid_request', reason: 'invalid_path' });
  });

  it('reports what a dry-run policy would do without enforcing it', async () => {
    const answer = await client.check(httpCheck({ principal: CHECKOUT, method: 'POST', path: '/entries', service: 'ledger' }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', dry_run: 'deny' });
    const fromPayments = await client.check(httpCheck({ principal: PAYMENTS, method: 'GET', path: '/entries', service: 'ledger' }));
    expect(metadata(fromPayments)).toMatchObject({ decision: 'deny', dry_run: 'allow', dry_run_policy: 'ledger-from-payments' });
  });

  it('marks a write to the ledger for the audit trail', async () => {
    const answer = await client.check(httpCheck({ principal: PAYMENTS, method: 'DELETE', path: '/entries/1', service: 'ledger' }));
    expect(metadata(answer)).toMatchObject({ audit: true, audit_policy: 'audit-ledger-writes' });
  });

  it('reads headers sent as header_map with raw values, as Envoy does with encode_raw_headers', async () => {
    const request = httpCheck({
      principal: 'spiffe://prod.example/ns/support/sa/support-portal',
      method: 'POST',
      path: '/v1/refunds',
      service: 'payments',
      headers: { 'x-tenant': 'acme' },
      headerMap: true,
    });
    expect(metadata(await client.check(request))).toMatchObject({ decision: 'allow', policy: 'payments-refunds' });
  });

  it('applies an Istio policy by the namespace of the destination', async () => {
    const request = httpCheck({ principal: FRONTEND, path: '/orders/42', service: 'orders', headers: {} });
    const inShop = { ...request, attributes: { ...(request.attributes as object), contextExtensions: { service: 'orders', namespace: 'shop' } } };
    expect(metadata(await client.check(inShop))).toMatchObject({ decision: 'allow', policy: 'shop/orders' });
  });

  it('serves gRPC health for the server and the Authorization service', async () => {
    expect(await client.health('')).toBe('SERVING');
    expect(await client.health('envoy.service.auth.v3.Authorization')).toBe('SERVING');
  });

  it('logs every deny as a JSON line on stdout', async () => {
    await client.check(httpCheck({ principal: BATCH, path: '/v1/charges', service: 'payments' }));
    await expect.poll(() => server.decisions.find((l) => l['source_principal'] === BATCH && l['decision'] === 'deny')).toBeTruthy();
  });
});
