import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createAuthorizationService, DEFAULT_REQUEST_LIMITS } from '../../src/check/index.js';
import { decidedBy } from '../helpers/decided-by.js';
import type { Decision } from '../../src/domain/index.js';
import { checkRequestWithinLimits, decodeCheckResponse, encodeCheckRequest, InvalidRequestError, type CheckRequestMessage } from '../../src/envoy/index.js';

const LIMITS = { headers: 10, headerBytes: 1024, pathBytes: 256, attributeBytes: 4096, contextEntries: 4, attributeFields: 16 };
const ALLOW: Decision = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 };

function request(http: Record<string, unknown>, attributes: Record<string, unknown> = {}): Buffer {
  return encodeCheckRequest({ attributes: { ...attributes, request: { http: { method: 'GET', path: '/', host: 'svc', ...http } } } } as CheckRequestMessage);
}

/** `count` repetitions of field `field` (varint 0) appended to a message: unknown or repeated scalars cost the decoder per field. */
function withFields(message: Buffer, field: number, count: number): Buffer {
  return Buffer.concat([message, Buffer.alloc(count * 2).fill(Buffer.from([field << 3, 0]))]);
}

function refusal(bytes: Uint8Array, limits = LIMITS): InvalidRequestError | undefined {
  try {
    checkRequestWithinLimits(bytes, limits);
    return undefined;
  } catch (error) {
    return error as InvalidRequestError;
  }
}

const headers = (n: number, value = 'v') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i}`, value]));
const headerMap = (n: number) => ({ headers: Array.from({ length: n }, () => ({ key: 'x-dup', rawValue: Buffer.from('v') })) });

describe('the limits a CheckRequest is held to before it is decoded', () => {
  it('lets through a request within every limit', () => {
    expect(refusal(request({ headers: headers(10), path: '/'.padEnd(256, 'a') }))).toBeUndefined();
  });

  it.each([
    ['one header too many in `headers`', { headers: headers(11) }, 'attributes.request.http.headers', 'grpc.limits.headers'],
    ['one header too many in `header_map`', { headerMap: headerMap(11) }, 'attributes.request.http.headers', 'grpc.limits.headers'],
    ['`headers` and `header_map` together over the count', { headers: headers(6), headerMap: headerMap(5) }, 'attributes.request.http.headers', 'grpc.limits.headers'],
    ['header bytes over the limit', { headers: { big: 'x'.repeat(1100) } }, 'attributes.request.http.headers', 'grpc.limits.headerBytes'],
    ['a path one byte too long', { path: '/'.padEnd(257, 'a') }, 'attributes.request.http.path', 'grpc.limits.pathBytes'],
    ['attributes over the limit', { host: 'h'.repeat(5000) }, 'attributes', 'grpc.limits.attributeBytes'],
  ])('refuses %s with request_too_large, naming the attribute and the setting', (_case, http, attribute, setting) => {
    const error = refusal(request(http));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error?.code).toBe('request_too_large');
    expect(error?.attribute).toBe(attribute);
    expect(error?.message).toContain(setting);
  });

  it.each([
    ['context_extensions', { contextExtensions: { a: '1', b: '2', c: '3', d: '4', e: '5' } }],
    ['context_extensions and metadata_context filters together', { contextExtensions: { a: '1', b: '2', c: '3' }, metadataContext: { filterMetadata: { f: {}, g: {} } } }],
  ])('refuses more %s entries than contextEntries', (_case, attributes) => {
    const error = refusal(request({}, attributes));
    expect(error?.code).toBe('request_too_large');
    expect(error?.message).toContain('grpc.limits.contextEntries');
  });

  it('lets through as many context entries as the limit', () => {
    expect(refusal(request({}, { contextExtensions: { a: '1', b: '2' }, metadataContext: { filterMetadata: { f: {}, g: {} } } }))).toBeUndefined();
  });

  it('refuses a message padded with unknown or repeated fields past attributeFields', () => {
    const base = request({});
    expect(refusal(withFields(base, 15, 8))).toBeUndefined(); // unknown field 15 of CheckRequest
    const error = refusal(withFields(base, 15, 20));
    expect(error?.code).toBe('request_too_large');
    expect(error?.message).toContain('grpc.limits.attributeFields');
  });

  it('does not count a forwarded request body against the attribute limit', () => {
    expect(refusal(request({ body: 'b'.repeat(10_000) }))).toBeUndefined();
    expect(refusal(request({ rawBody: Buffer.alloc(10_000) }))).toBeUndefined();
  });

  it('leaves bytes that are not a CheckRequest to the decoder', () => {
    expect(refusal(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toBeUndefined();
  });
});

describe('the Check service, given bytes that inflate far past what Envoy sends', () => {
  const service = createAuthorizationService(decidedBy(() => ALLOW), { decisionIdFactory: () => 'id' });
  const answer = (bytes: Uint8Array) =>
    new Promise<ReturnType<typeof decodeCheckResponse>>((resolve) => service.checkBytes(bytes, (response) => resolve(decodeCheckResponse(response))));

  it('answers a 380,000-segment `a/../` path with 400, without canonicalizing it', async () => {
    const bytes = request({ path: `/${'a/../'.repeat(380_000)}x` });
    expect(gzipSync(bytes).length).toBeLessThan(64 * 1024); // what arrives on the wire is small
    const response = await answer(bytes);
    expect(response.deniedResponse?.status?.code).toBe(400);
  });

  it.each([
    ['200,000 duplicate header_map entries', { headerMap: headerMap(200_000) }],
    ['230,000 distinct headers', { headers: headers(230_000) }],
  ])('answers %s with 400', async (_case, http) => {
    const response = await answer(request(http));
    expect(response.deniedResponse?.status?.code).toBe(400);
    expect(JSON.stringify(response)).not.toContain('x-dup');
  });

  it('answers a request within the default limits as the handler decides', async () => {
    const response = await answer(request({ headers: headers(DEFAULT_REQUEST_LIMITS.headers - 1) }));
    expect(response.status?.code ?? 0).toBe(0);
  });
});
