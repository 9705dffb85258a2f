import { describe, expect, it } from 'vitest';
import { decodeCheckRequest, encodeCheckRequest } from '../../src/envoy/check-codec.js';
import { InvalidRequestError } from '../../src/envoy/invalid-request-error.js';
import { toAccessRequest } from '../../src/envoy/to-access-request.js';
import type { CheckRequestMessage, HttpRequestMessage } from '../../src/envoy/wire-messages.js';

/** Round-trips through the wire codec, so the adapter reads real decoded messages. */
function decoded(message: CheckRequestMessage): CheckRequestMessage {
  return decodeCheckRequest(encodeCheckRequest(message));
}

function withHttp(http: HttpRequestMessage): CheckRequestMessage {
  return decoded({ attributes: { request: { http } } });
}

const BASE: HttpRequestMessage = { id: '7', method: 'get', path: '/v1/charges?limit=5', host: 'payments:8080', scheme: 'https', protocol: 'HTTP/2' };
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function invalid(check: CheckRequestMessage, options = {}): Pick<InvalidRequestError, 'code' | 'attribute'> {
  try {
    toAccessRequest(check, options);
  } catch (error) {
    if (error instanceof InvalidRequestError) return { code: error.code, attribute: error.attribute };
    throw error;
  }
  throw new Error('expected an InvalidRequestError');
}

describe('toAccessRequest', () => {
  it('reads method, canonical path, query, host, scheme and protocol', () => {
    const request = toAccessRequest(withHttp({ ...BASE, path: '/v1//./x/../charges?limit=5' }));
    expect(request).toMatchObject({
      requestId: '7',
      method: 'GET',
      path: '/v1/charges',
      rawPath: '/v1//./x/../charges?limit=5',
      query: 'limit=5',
      host: 'payments',
      scheme: 'https',
      protocol: 'HTTP/2',
      sni: '',
    });
  });

  const headerForms: ReadonlyArray<[string, HttpRequestMessage, Record<string, string>]> = [
    ['the headers map, lower-casing names', { headers: { 'X-Tenant': 'acme', accept: 'a,b' } }, { 'x-tenant': 'acme', accept: 'a,b' }],
    [
      'header_map values, joining repeated headers with ","',
      { headerMap: { headers: [{ key: 'x-tenant', value: 'a' }, { key: 'X-Tenant', value: 'b' }] } },
      { 'x-tenant': 'a,b' },
    ],
    ['header_map raw_value bytes as UTF-8', { headerMap: { headers: [{ key: 'x-name', rawValue: utf8('zoë') }] } }, { 'x-name': 'zoë' }],
    [
      'repeated cookies, joined with "; "',
      { headerMap: { headers: [{ key: 'cookie', rawValue: utf8('a=1') }, { key: 'cookie', rawValue: utf8('b=2') }] } },
      { cookie: 'a=1; b=2' },
    ],
    ['an empty raw value as ""', { headerMap: { headers: [{ key: 'x-empty' }] } }, { 'x-empty': '' }],
  ];

  it.each(headerForms)('reads %s', (_name, http, expected) => {
    const request = toAccessRequest(withHttp({ ...BASE, ...http }));
    expect(Object.fromEntries(request.headers)).toEqual(expected);
  });

  it('prefers header_map over headers when Envoy sends both', () => {
    const request = toAccessRequest(withHttp({ ...BASE, headers: { a: 'map' }, headerMap: { headers: [{ key: 'a', value: 'list' }] } }));
    expect(request.headers.get('a')).toBe('list');
  });

  it('falls back to pseudo-headers when the http fields are empty', () => {
    const request = toAccessRequest(
      withHttp({ headers: { ':method': 'post', ':path': '/a/%7Eb', ':authority': 'Pay.Example.', ':scheme': 'HTTP' } }),
    );
    expect(request).toMatchObject({ method: 'POST', path: '/a/~b', host: 'pay.example', scheme: 'http' });
  });

  it('takes the request id from x-request-id before request.http.id', () => {
    expect(toAccessRequest(withHttp({ ...BASE, headers: { 'x-request-id': 'abc' } })).requestId).toBe('abc');
    expect(toAccessRequest(withHttp({ ...BASE })).requestId).toBe('7');
  });

  it('reads the query field when the path carries none', () => {
    expect(toAccessRequest(withHttp({ ...BASE, path: '/a', query: 'x=1' })).query).toBe('x=1');
  });

  it('reads peers, context extensions, SNI and filter metadata', () => {
    const request = toAccessRequest(
      decoded({
        attributes: {
          source: {
            address: { socketAddress: { address: '10.0.0.7', portValue: 41000 } },
            principal: 'spiffe://prod.example/ns/checkout/sa/checkout',
            certificate: '-----BEGIN%20CERTIFICATE-----',
          },
          destination: { address: { pipe: { path: '/var/run/app.sock' } } },
          request: { http: BASE },
          contextExtensions: { service: 'payments', namespace: 'prod' },
          tlsSession: { sni: 'payments.prod.svc' },
          metadataContext: {
            filterMetadata: {
              'envoy.filters.http.jwt_authn': {
                fields: {
                  claims: {
                    structValue: {
                      fields: {
                        sub: { stringValue: 'alice' },
                        n: { numberValue: 3 },
                        admin: { boolValue: false },
                        scopes: { listValue: { values: [{ stringValue: 'a' }, { nullValue: 0 }] } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      }),
    );
    expect(request.source).toEqual({
      address: '10.0.0.7',
      port: 41000,
      principal: 'spiffe://prod.example/ns/checkout/sa/checkout',
      certificate: '-----BEGIN%20CERTIFICATE-----',
    });
    expect(request.destination).toEqual({});
    expect(Object.fromEntries(request.contextExtensions)).toEqual({ service: 'payments', namespace: 'prod' });
    expect(request.sni).toBe('payments.prod.svc');
    expect(request.filterMetadata).toEqual({
      'envoy.filters.http.jwt_authn': { claims: { sub: 'alice', n: 3, admin: false, scopes: ['a', null] } },
    });
  });

  it('keeps a metadata key named __proto__ as data, not as a prototype', () => {
    const request = toAccessRequest(
      decoded({
        attributes: {
          request: { http: BASE },
          metadataContext: { filterMetadata: { f: { fields: { ['__proto__']: { structValue: { fields: { polluted: { boolValue: true } } } } } } } },
        },
      }),
    );
    const filter = request.filterMetadata['f'] as Record<string, unknown>;
    expect(Object.getOwnPropertyNames(filter)).toEqual(['__proto__']);
    expect((filter as { polluted?: boolean }).polluted).toBeUndefined();
  });

  const invalidCases: ReadonlyArray<[string, CheckRequestMessage, string, string]> = [
    ['no attributes (a connection without its addresses)', {}, 'missing_connection_attributes', 'attributes.source.address'],
    ['an http request present but empty', { attributes: { request: { http: {} } } }, 'missing_http_attributes', 'attributes.request.http.path'],
    ['no path', { attributes: { request: { http: { ...BASE, path: '' } } } }, 'missing_http_attributes', 'attributes.request.http.path'],
    ['no method', { attributes: { request: { http: { ...BASE, method: '' } } } }, 'missing_http_attributes', 'attributes.request.http.method'],
    ['an encoded slash in the path', { attributes: { request: { http: { ...BASE, path: '/a%2F..%2Fadmin' } } } }, 'invalid_path', 'attributes.request.http.path'],
    ['a relative path', { attributes: { request: { http: { ...BASE, path: 'admin' } } } }, 'invalid_path', 'attributes.request.http.path'],
    ['a malformed host', { attributes: { request: { http: { ...BASE, host: 'a:b:c' } } } }, 'invalid_header', 'attributes.request.http.host'],
    [
      'a raw header value that is not UTF-8',
      { attributes: { request: { http: { ...BASE, headerMap: { headers: [{ key: 'x-bad', rawValue: new Uint8Array([0xff, 0xfe]) }] } } } } },
      'invalid_header',
      'header:x-bad',
    ],
  ];

  it.each(invalidCases)('refuses a request with %s', (_name, check, code, attribute) => {
    expect(invalid(decoded(check))).toEqual({ code, attribute });
  });

  it('decodes encoded slashes when decodeEncodedSlashes is on', () => {
    const request = toAccessRequest(withHttp({ ...BASE, path: '/a%2F..%2Fadmin' }), { decodeEncodedSlashes: true });
    expect(request.path).toBe('/admin');
  });
});
