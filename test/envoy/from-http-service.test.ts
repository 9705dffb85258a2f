/**
 * Envoy's HTTP ext_authz encoding read back into the CheckRequest it came from: the same
 * AccessRequest the gRPC service builds for the same client request, except what the HTTP
 * encoding cannot carry; and a request Envoy could not have sent refused, naming what was wrong.
 */
import { describe, expect, it } from 'vitest';
import { fromHttpServiceRequest, type HttpServiceRequest } from '../../src/envoy/from-http-service.js';
import { InvalidRequestError } from '../../src/envoy/invalid-request-error.js';
import { toAccessRequest } from '../../src/envoy/to-access-request.js';

const CLIENT_HEADERS = { 'x-request-id': 'req-1', authorization: 'Bearer abc', 'x-tenant': 'acme', cookie: 'a=1,b=2' };

/** What Envoy sent for GET /v1/charges?limit=5 to payments:8080, with `path_prefix: /authz`. */
const FROM_ENVOY: HttpServiceRequest = {
  method: 'GET',
  target: '/authz/v1/charges?limit=5',
  rawHeaders: [
    'host', 'payments:8080', 'content-length', '0',
    ...Object.entries(CLIENT_HEADERS).flat(),
    'x-meshwarden-context-service', 'payments', 'x-meshwarden-context-namespace', 'prod',
    'x-meshwarden-source-address', '10.1.2.3', 'x-meshwarden-source-principal', 'spiffe://prod.example/ns/shop/sa/cart',
    'x-meshwarden-destination-principal', 'spiffe://prod.example/ns/prod/sa/payments',
    'x-envoy-internal', 'true', 'x-envoy-expected-rq-timeout-ms', '250',
  ],
};
const PREFIX = { pathPrefix: '/authz' };

function refusal(request: Partial<HttpServiceRequest>, options = PREFIX): Pick<InvalidRequestError, 'code' | 'attribute'> {
  try {
    fromHttpServiceRequest({ ...FROM_ENVOY, ...request }, options);
  } catch (error) {
    if (error instanceof InvalidRequestError) return { code: error.code, attribute: error.attribute };
    throw error;
  }
  throw new Error('expected an InvalidRequestError');
}

describe('fromHttpServiceRequest', () => {
  it('gives the AccessRequest the gRPC service builds from the same client request, path prefix taken off', () => {
    const overHttp = toAccessRequest(fromHttpServiceRequest(FROM_ENVOY, PREFIX));
    const overGrpc = toAccessRequest({
      attributes: {
        request: {
          http: {
            id: 'stream-9', method: 'GET', path: '/v1/charges?limit=5', host: 'payments:8080',
            headers: { ':method': 'GET', ':path': '/v1/charges?limit=5', ':authority': 'payments:8080', ...CLIENT_HEADERS },
          },
        },
        contextExtensions: { service: 'payments', namespace: 'prod' },
        source: { address: { socketAddress: { address: '10.1.2.3' } }, principal: 'spiffe://prod.example/ns/shop/sa/cart' },
        destination: { principal: 'spiffe://prod.example/ns/prod/sa/payments' },
      },
    });
    expect(overHttp).toEqual(overGrpc);
    expect(overHttp).toMatchObject({ requestId: 'req-1', method: 'GET', path: '/v1/charges', query: 'limit=5', host: 'payments' });
  });

  it('leaves out the headers of the authorization call itself: its length and what Envoy adds to every call', () => {
    const { headers } = toAccessRequest(fromHttpServiceRequest(FROM_ENVOY, PREFIX));
    for (const name of ['content-length', 'x-envoy-internal', 'x-envoy-expected-rq-timeout-ms', 'host']) expect(headers.has(name)).toBe(false);
  });

  it('reads x-meshwarden-context-KEY headers as context_extensions[KEY], not as request headers', () => {
    const request = toAccessRequest(fromHttpServiceRequest(FROM_ENVOY, PREFIX));
    expect(Object.fromEntries(request.contextExtensions)).toEqual({ service: 'payments', namespace: 'prod' });
    expect([...request.headers.keys()].filter((name) => name.startsWith('x-meshwarden-'))).toEqual([]);
  });

  it('reads the caller\'s address and SPIFFE ID, and this workload\'s, from the headers Envoy adds for them', () => {
    const request = toAccessRequest(fromHttpServiceRequest(FROM_ENVOY, PREFIX));
    expect(request.source).toEqual({ address: '10.1.2.3', principal: 'spiffe://prod.example/ns/shop/sa/cart' });
    expect(request.destination).toEqual({ principal: 'spiffe://prod.example/ns/prod/sa/payments' });
  });

  it('sees no peer, principal, SNI or metadata that Envoy did not add: the HTTP encoding carries none of them', () => {
    const request = toAccessRequest(fromHttpServiceRequest({ ...FROM_ENVOY, rawHeaders: ['host', 'payments'] }, PREFIX));
    expect(request).toMatchObject({ source: {}, destination: {}, sni: '', filterMetadata: {}, scheme: '', protocol: '' });
  });

  it('carries the body Envoy forwarded, and none when it forwarded none', () => {
    const body = new TextEncoder().encode('{"amount":10}');
    expect(toAccessRequest(fromHttpServiceRequest({ ...FROM_ENVOY, body }, PREFIX)).body).toEqual(body);
    expect(toAccessRequest(fromHttpServiceRequest({ ...FROM_ENVOY, body: new Uint8Array(0) }, PREFIX)).body).toBeUndefined();
  });

  it('reads header values as the UTF-8 Envoy forwarded, which node:http handed over as latin1', () => {
    const latin1 = Buffer.from('zoë', 'utf8').toString('latin1');
    const request = toAccessRequest(fromHttpServiceRequest({ ...FROM_ENVOY, rawHeaders: ['host', 'shop', 'x-name', latin1] }, PREFIX));
    expect(request.headers.get('x-name')).toBe('zoë');
  });

  it('takes the whole target as the path when there is no prefix', () => {
    expect(toAccessRequest(fromHttpServiceRequest({ ...FROM_ENVOY, target: '/authz/x' }, { pathPrefix: '' })).path).toBe('/authz/x');
  });

  it.each([
    ['a path outside the prefix', { target: '/other/v1/charges' }, { code: 'invalid_path', attribute: 'path' }],
    ['the prefix run on into a longer segment', { target: '/authzed/v1' }, { code: 'invalid_path', attribute: 'path' }],
    ['the prefix alone', { target: '/authz' }, { code: 'invalid_path', attribute: 'path' }],
    ['a header sent twice', { rawHeaders: ['host', 'a', 'authorization', 'Bearer x', 'Authorization', 'Bearer y'] }, { code: 'invalid_header', attribute: 'header:authorization' }],
    ['a request without host', { rawHeaders: ['x-request-id', 'r'] }, { code: 'missing_http_attributes', attribute: 'header:host' }],
    ['host sent twice', { rawHeaders: ['host', 'a', 'Host', 'b'] }, { code: 'invalid_header', attribute: 'header:host' }],
    ['a header that is not UTF-8', { rawHeaders: ['host', 'a', 'x-name', '\xff'] }, { code: 'invalid_header', attribute: 'header:x-name' }],
    ['a source address that is no IP address', { rawHeaders: ['host', 'a', 'x-meshwarden-source-address', '10.0.0.1, 10.0.0.2'] }, { code: 'invalid_header', attribute: 'header:x-meshwarden-source-address' }],
    ['a context header that names no key', { rawHeaders: ['host', 'a', 'x-meshwarden-context-', 'x'] }, { code: 'invalid_header', attribute: 'header:x-meshwarden-context-' }],
  ] as const)('refuses %s, naming it', (_what, request, expected) => {
    expect(refusal(request)).toEqual(expected);
  });

  it('refuses a target that is not a path when there is no prefix (asterisk or absolute form)', () => {
    expect(refusal({ target: '*' }, { pathPrefix: '' })).toEqual({ code: 'invalid_path', attribute: 'path' });
    expect(refusal({ target: 'http://evil/x' }, { pathPrefix: '' })).toEqual({ code: 'invalid_path', attribute: 'path' });
  });
});
