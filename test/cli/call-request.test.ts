/**
 * What `meshwarden call` sends is what `explain` evaluates: the request file's AccessRequest,
 * encoded by the client's serializer (proto-loader over proto/), read by the server's adapter,
 * is the same AccessRequest again.
 */
import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { checkRequestOf } from '../../src/cli/call-request.js';
import type { AccessRequest } from '../../src/domain/index.js';
import { EXT_AUTHZ_PROTO, PROTO_DIR, decodeCheckRequest, toAccessRequest } from '../../src/envoy/index.js';
import { readRequestFile } from '../../src/workflow/index.js';

const definition = loadSync(EXT_AUTHZ_PROTO, { includeDirs: [PROTO_DIR], keepCase: false, defaults: false, oneofs: true });
const check = (definition['envoy.service.auth.v3.Authorization'] as Record<string, { requestSerialize(value: object): Buffer }>)['Check']!;

/** Client's bytes → the server's AccessRequest. */
function serverSees(request: AccessRequest): AccessRequest {
  return toAccessRequest(decodeCheckRequest(check.requestSerialize(checkRequestOf(request))));
}

const BASE: AccessRequest = {
  kind: 'http',
  requestId: 'r-1',
  method: 'POST',
  path: '/v1/charges',
  rawPath: '/v1/charges?expand=customer',
  query: 'expand=customer',
  host: 'payments.prod.svc.cluster.local',
  scheme: 'https',
  protocol: 'HTTP/2',
  headers: new Map([[':authority', 'payments.prod.svc.cluster.local:8443'], ['x-request-id', 'r-1'], ['content-type', 'application/json']]),
  source: { address: '10.0.4.17', port: 40512, principal: 'spiffe://prod.example/ns/checkout/sa/checkout', certificate: '-----BEGIN%20CERTIFICATE-----' },
  destination: { address: '10.0.9.3', port: 8443 },
  contextExtensions: new Map([['service', 'payments']]),
  sni: 'payments.prod.svc.cluster.local',
  filterMetadata: { 'envoy.filters.http.jwt_authn': { payload: { iss: 'https://idp.example', scope: ['a', 'b'], n: 2, ok: true, none: null } } },
  body: Buffer.from('{"amount":10}'),
};

describe('the Check that meshwarden call sends', () => {
  it.each(['examples/requests/checkout-creates-charge.yaml', 'examples/requests/batch-reads-charges.json'])(
    'carries %s to the server as the very request explain evaluates',
    async (file) => {
      const { request } = await readRequestFile(file);
      expect(serverSees(request)).toEqual(request);
    },
  );

  it('carries the body, the TLS session, the peer certificate and filter metadata', () => {
    expect(serverSees(BASE)).toEqual(BASE);
  });

  it('sends a TCP connection without an HTTP request', () => {
    const connection: AccessRequest = {
      ...BASE,
      kind: 'connection',
      requestId: '',
      method: 'TCP',
      path: '',
      rawPath: '',
      query: '',
      host: '',
      scheme: '',
      protocol: '',
      headers: new Map(),
      body: undefined,
    };
    expect(serverSees(connection)).toEqual(connection);
  });
});
