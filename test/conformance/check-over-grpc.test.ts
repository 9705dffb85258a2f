/**
 * End to end on the wire: CheckRequests encoded with Envoy's OFFICIAL protos, as Envoy
 * sends them, go as raw bytes over a real grpc-js client to a running server; every
 * answer is decoded with the official protos, as Envoy reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, Decision } from '../../src/domain/index.js';
import { startGrpcServer, type RunningGrpcServer } from '../../src/server/grpc/index.js';
import { createAuthorizationService } from '../../src/check/index.js';
import { decidedBy } from '../helpers/decided-by.js';
import { decodeOfficial, encodeOfficial } from '../helpers/official-protos.js';
import { rawClient, type RawClient } from '../helpers/check-client.js';

const SPIFFE = 'spiffe://prod.example/ns/checkout/sa/checkout';
const seen: AccessRequest[] = [];

/** A small stand-in for the real pipeline: decides on the path alone. */
function decide(request: AccessRequest): Decision {
  seen.push(request);
  const base = { id: `d-${seen.length}`, generation: 9 } as const;
  if (request.path.startsWith('/admin')) return { ...base, verdict: 'deny', reason: 'policy_deny', by: { policy: 'prod/no-admin', rule: 1 } };
  if (request.path === '/login') return { ...base, verdict: 'unauthenticated', reason: 'invalid_token' };
  return { ...base, verdict: 'allow', reason: 'policy_allow', by: { policy: 'prod/payments', rule: 0 }, dryRun: { verdict: 'deny' } };
}

let running: RunningGrpcServer;
let client: RawClient;

async function check(request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const bytes = Buffer.isBuffer(request['raw']) ? request['raw'] : encodeOfficial('envoy.service.auth.v3.CheckRequest', request);
  const response = await new Promise<Buffer>((resolve, reject) => {
    client.Check(bytes, {}, (error, answer) => (error || !answer ? reject(error) : resolve(answer)));
  });
  return decodeOfficial('envoy.service.auth.v3.CheckResponse', response);
}

function http(fields: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    attributes: {
      source: { address: { socketAddress: { address: '10.1.2.3', portValue: 50000 } }, principal: SPIFFE, service: 'trimmed-away', labels: { a: 'b' } },
      destination: { address: { socketAddress: { address: '10.9.9.9', portValue: 8080 } } },
      request: { time: { seconds: 1_700_000_000 }, http: { id: '42', method: 'GET', host: 'payments', scheme: 'https', protocol: 'HTTP/1.1', size: 0, ...fields } },
      ...extra,
    },
  };
}

const metadataOf = (response: Record<string, unknown>) => {
  const fields = (response['dynamicMetadata'] as { fields: Record<string, Record<string, unknown>> }).fields;
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, Object.values(value)[0]]));
};
const headersOf = (list: unknown) => (list as Array<{ header: { key: string; value: string }; append?: { value: boolean } }>) ?? [];

describe.each(['native', 'grpc-js'] as const)('Check over gRPC on %s, against Envoy official protos', (transport) => {
  beforeAll(async () => {
    running = await startGrpcServer({ address: '127.0.0.1:0', transport, authorization: createAuthorizationService(decidedBy(decide)) });
    client = rawClient(running.address);
  });

  afterAll(async () => {
    client.close();
    await running.close(1_000);
  });

  it('allows a request sent with the headers map, sets the principal upstream and reports why', async () => {
    const response = await check(http({ path: '/v1/charges?x=1', headers: { ':path': '/v1/charges?x=1', 'x-request-id': 'r-1', 'x-meshwarden-principal': 'spoofed' } }));
    expect(response['status']).toEqual({}); // present, and code 0 (OK) is proto3's default: not on the wire
    expect(response['httpResponse']).toBe('okResponse');
    const ok = response['okResponse'] as Record<string, unknown>;
    expect(headersOf(ok['headers'])).toEqual([
      { header: { key: 'x-meshwarden-principal', value: SPIFFE }, append: {}, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    expect(ok['headersToRemove']).toBeUndefined();
    expect(metadataOf(response)).toEqual({
      decision: 'allow',
      reason: 'policy_allow',
      policy: 'prod/payments',
      rule: 0,
      dry_run: 'deny',
      audit: false,
      decision_id: expect.stringMatching(/^d-/),
      generation: 9,
    });
    expect(seen.at(-1)).toMatchObject({ path: '/v1/charges', query: 'x=1', requestId: 'r-1', source: { address: '10.1.2.3', port: 50000 } });
  });

  it('reads header_map as Envoy sends it under encode_raw_headers, raw_value bytes and repeats included', async () => {
    const raw = (key: string, value: string) => ({ key, rawValue: Buffer.from(value) });
    await check(
      http({
        path: '/v1/refunds',
        headerMap: { headers: [raw(':path', '/v1/refunds'), raw('x-tenant', 'acme'), raw('X-Tenant', 'beta'), { key: 'x-plain', value: 'v' }] },
      }),
    );
    expect(Object.fromEntries(seen.at(-1)?.headers ?? [])).toEqual({ ':path': '/v1/refunds', 'x-tenant': 'acme,beta', 'x-plain': 'v' });
  });

  it('reads context_extensions, metadata_context, tls_session and the peer certificate', async () => {
    await check(
      http(
        { path: '/v1/charges' },
        {
          source: { principal: SPIFFE, certificate: '-----BEGIN%20CERTIFICATE-----%0A' },
          contextExtensions: { service: 'payments', namespace: 'prod' },
          metadataContext: { filterMetadata: { 'envoy.filters.http.jwt_authn': { fields: { sub: { stringValue: 'alice' }, n: { numberValue: 2 } } } } },
          routeMetadataContext: { filterMetadata: { route: { fields: { r: { boolValue: true } } } } },
          tlsSession: { sni: 'payments.prod.svc.cluster.local' },
        },
      ),
    );
    const request = seen.at(-1);
    expect(Object.fromEntries(request?.contextExtensions ?? [])).toEqual({ service: 'payments', namespace: 'prod' });
    expect(request?.filterMetadata).toEqual({ 'envoy.filters.http.jwt_authn': { sub: 'alice', n: 2 } });
    expect(request?.sni).toBe('payments.prod.svc.cluster.local');
    expect(request?.source).toEqual({ principal: SPIFFE, certificate: '-----BEGIN%20CERTIFICATE-----%0A' });
  });

  const denials: ReadonlyArray<[string, string, number, string, number, Record<string, string>]> = [
    ['a denied request', '/admin/users', 7, 'Forbidden', 403, { 'content-type': 'application/json' }],
    ['an unauthenticated request', '/login', 16, 'Unauthorized', 401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }],
    ['a bypass attempt with an encoded slash', '/v1%2F..%2Fadmin', 3, 'BadRequest', 400, { 'content-type': 'application/json' }],
  ];

  it.each(denials)('answers %s as Envoy expects', async (_name, path, grpcCode, httpStatus, _numeric, headers) => {
    const response = await check(http({ path, headers: { 'x-request-id': 'r-7' } }));
    expect(response['status']).toEqual({ code: grpcCode });
    expect(response['httpResponse']).toBe('deniedResponse');
    const denied = response['deniedResponse'] as { status: { code: string }; headers: unknown; body: string };
    expect(denied.status.code).toBe(httpStatus);
    expect(Object.fromEntries(headersOf(denied.headers).map((h) => [h.header.key, h.header.value]))).toEqual(headers);
    const body = JSON.parse(denied.body) as Record<string, unknown>;
    expect(body).toEqual({ error: expect.any(String), request_id: 'r-7' });
    expect(denied.body).not.toContain('no-admin');
    expect(metadataOf(response)['decision']).toBeDefined();
  });

  it('removes a spoofed principal header when the caller has no SPIFFE identity', async () => {
    const response = await check(http({ path: '/v1/charges' }, { source: { principal: 'CN=legacy' } }));
    const ok = response['okResponse'] as Record<string, unknown>;
    expect(ok['headers']).toBeUndefined();
    expect(ok['headersToRemove']).toEqual(['x-meshwarden-principal']);
  });

  it('answers a CheckRequest without HTTP attributes with 400, not a gRPC error', async () => {
    const response = await check({ attributes: { source: { principal: SPIFFE } } });
    expect(response['status']).toEqual({ code: 3 });
    expect((response['deniedResponse'] as { status: { code: string } }).status.code).toBe('BadRequest');
  });

  it('answers bytes that are not a CheckRequest with 400, not a gRPC error', async () => {
    const response = await check({ raw: Buffer.from([0x0a, 0xff, 0xff, 0xff]) });
    expect(response['status']).toEqual({ code: 3 });
    expect(metadataOf(response)).toMatchObject({ decision: 'invalid_request', reason: 'missing_http_attributes' });
  });
});
