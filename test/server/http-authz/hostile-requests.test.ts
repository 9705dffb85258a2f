/**
 * A hostile corpus against the HTTP ext_authz listener: repeated and oversized headers, heads
 * and bodies past the bounds, lying or doubled lengths, malformed framing, text that is not
 * UTF-8, targets that are no path, requests that never finish. Each asks for GET /allowed,
 * which an honest request gets 200 for: every one is answered 400 (408 for one that never
 * arrives whole) with the reason told to telemetry, or cut; never 200, never a crash, and the
 * listener serves an honest request afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReasonCode } from '../../../src/domain/index.js';
import { httpRequest, rawExchange } from '../../helpers/raw-http1.js';
import { PREFIX, serveHttp, type Served } from './serve-http.js';

const LIMITS = { headers: 50, headerBytes: 8192, bodyBytes: 4096, deadlineMs: 500 };
const TARGET = `${PREFIX}/allowed`;
const HOST = ['host', 'shop'] as const;
const honest = (extra: ReadonlyArray<readonly [string, string]> = []) => httpRequest('GET', TARGET, [HOST, ...extra]);
const head = (lines: string) => `GET ${TARGET} HTTP/1.1\r\nhost: shop\r\n${lines}\r\n`;
/** An honest head whose x-name header holds `bytes`. */
const withValueBytes = (bytes: number[]) => Buffer.concat([Buffer.from(`GET ${TARGET} HTTP/1.1\r\nhost: shop\r\nx-name: `), Buffer.from(bytes), Buffer.from('\r\n\r\n')]);

interface Hostile {
  readonly name: string;
  readonly parts: readonly (string | Buffer)[];
  /** 400 with this reason; 408 for `timeout`. */
  readonly expected: ReasonCode | 'timeout';
}

const CORPUS: readonly Hostile[] = [
  { name: 'authorization sent twice', parts: [honest([['authorization', 'Bearer a'], ['authorization', 'Bearer b']])], expected: 'invalid_header' },
  { name: 'host sent twice', parts: [honest([['Host', 'other']])], expected: 'invalid_header' },
  { name: 'x-forwarded-client-cert sent twice', parts: [honest([['x-forwarded-client-cert', 'URI=spiffe://a/x'], ['x-forwarded-client-cert', 'URI=spiffe://a/y']])], expected: 'invalid_header' },
  { name: 'content-type sent twice, in two cases', parts: [honest([['content-type', 'text/plain'], ['Content-Type', 'application/json']])], expected: 'invalid_header' },
  { name: 'a context header sent twice', parts: [honest([['x-meshwarden-context-service', 'a'], ['x-meshwarden-context-service', 'b']])], expected: 'invalid_header' },
  { name: 'header lines past http.limits.headers', parts: [honest(Array.from({ length: 60 }, (_, i) => [`x-h${i}`, 'v'] as const))], expected: 'request_too_large' },
  { name: 'a head past http.limits.headerBytes', parts: [honest([['x-big', 'v'.repeat(9000)]])], expected: 'request_too_large' },
  { name: 'a 300 KiB header value', parts: [honest([['x-huge', 'v'.repeat(300 * 1024)]])], expected: 'request_too_large' },
  { name: 'a body declared past http.limits.bodyBytes', parts: [head('content-length: 999999\r\n')], expected: 'request_too_large' },
  { name: 'a chunked body past http.limits.bodyBytes', parts: [head('transfer-encoding: chunked\r\n'), `2000\r\n${'x'.repeat(0x2000)}\r\n0\r\n\r\n`], expected: 'request_too_large' },
  { name: 'two content-lengths that disagree', parts: [head('content-length: 1\r\ncontent-length: 2\r\n') + 'ab'], expected: 'missing_http_attributes' },
  { name: 'content-length beside transfer-encoding', parts: [head('content-length: 3\r\ntransfer-encoding: chunked\r\n') + '0\r\n\r\n'], expected: 'missing_http_attributes' },
  { name: 'a malformed chunk size', parts: [head('transfer-encoding: chunked\r\n') + 'zz\r\nabc\r\n0\r\n\r\n'], expected: 'missing_http_attributes' },
  { name: 'a header value that is not UTF-8', parts: [withValueBytes([0xff, 0xfe])], expected: 'invalid_header' },
  { name: 'an overlong UTF-8 encoding in a header', parts: [withValueBytes([0x61, 0xc0, 0xaf])], expected: 'invalid_header' },
  { name: 'a NUL in a header value', parts: [head('x-name: a\0b\r\n')], expected: 'missing_http_attributes' },
  { name: 'a header name with a space before its colon', parts: [head('authorization : Bearer x\r\n')], expected: 'missing_http_attributes' },
  { name: 'a folded header line', parts: [head('x-name: a\r\n b\r\n')], expected: 'missing_http_attributes' },
  { name: 'a method that is no method', parts: [`G@T ${TARGET} HTTP/1.1\r\nhost: shop\r\n\r\n`], expected: 'missing_http_attributes' },
  { name: 'bytes that are no HTTP at all', parts: [Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])], expected: 'missing_http_attributes' },
  { name: 'an HTTP/2 preface', parts: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], expected: 'missing_http_attributes' },
  { name: 'CONNECT', parts: ['CONNECT shop:443 HTTP/1.1\r\nhost: shop:443\r\n\r\n'], expected: 'invalid_path' },
  { name: 'an absolute-form target', parts: [`GET http://shop${TARGET} HTTP/1.1\r\nhost: shop\r\ncontent-length: 0\r\n\r\n`], expected: 'invalid_path' },
  { name: 'a target outside the path prefix', parts: [httpRequest('GET', '/allowed', [HOST])], expected: 'invalid_path' },
  { name: 'a target that only starts like the prefix', parts: [httpRequest('GET', `${PREFIX}x/allowed`, [HOST])], expected: 'invalid_path' },
  { name: 'a chunk size past any integer', parts: [head('transfer-encoding: chunked\r\n') + 'ffffffffffffffffff\r\nab'], expected: 'missing_http_attributes' },
  { name: 'transfer-encoding sent twice', parts: [head('transfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n') + '0\r\n\r\n'], expected: 'missing_http_attributes' },
  { name: 'a transfer-encoding that is not chunked', parts: [head('transfer-encoding: gzip\r\n')], expected: 'missing_http_attributes' },
  { name: 'x-envoy-auth-partial-body sent twice, saying both', parts: [honest([['x-envoy-auth-partial-body', 'true'], ['X-Envoy-Auth-Partial-Body', 'false']])], expected: 'invalid_header' },
  { name: 'a CR alone inside a header value', parts: [head('x-name: a\rb\r\n')], expected: 'missing_http_attributes' },
  { name: 'lines ended by LF alone', parts: [`GET ${TARGET} HTTP/1.1\nhost: shop\n\n`], expected: 'missing_http_attributes' },
  { name: 'a method in lower case', parts: [`get ${TARGET} HTTP/1.1\r\nhost: shop\r\n\r\n`], expected: 'missing_http_attributes' },
  { name: 'the path prefix alone, with a query', parts: [httpRequest('GET', `${PREFIX}?x=/allowed`, [HOST])], expected: 'invalid_path' },
  { name: 'the path prefix percent-encoded', parts: [httpRequest('GET', `${PREFIX.slice(0, -1)}%${PREFIX.charCodeAt(PREFIX.length - 1).toString(16)}/allowed`, [HOST])], expected: 'invalid_path' },
  { name: 'an asterisk target', parts: [httpRequest('OPTIONS', '*', [HOST])], expected: 'invalid_path' },
  { name: 'an HTTP/1.0 request without host', parts: [`GET ${TARGET} HTTP/1.0\r\n\r\n`], expected: 'missing_http_attributes' },
  { name: 'a head that never ends', parts: [`GET ${TARGET} HTTP/1.1\r\nhost: shop\r\n`], expected: 'timeout' },
  { name: 'a body shorter than declared, left hanging', parts: [head('content-length: 100\r\n') + 'x'], expected: 'timeout' },
];

describe('a hostile corpus of HTTP ext_authz requests', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveHttp({ limits: LIMITS });
  });
  afterAll(() => served?.server.close(100));

  it.each(CORPUS.map((hostile) => [hostile.name, hostile] as const))('%s: refused, never allowed', async (_name, hostile) => {
    const before = served.observed.length;
    const answer = await rawExchange(served.server.address, hostile.parts, { waitMs: 3_000 });
    expect(answer.status).not.toBe(200);
    if (hostile.expected === 'timeout') {
      expect(answer.status).toBe(408);
      expect(served.observed).toHaveLength(before);
      return;
    }
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request' });
    expect(served.observed.at(-1)?.decision).toMatchObject({ verdict: 'invalid_request', reason: hostile.expected });
  });

  it('answers a connection that sends nothing at all 408 once the deadline passes, and closes it', async () => {
    const answer = await rawExchange(served.server.address, [], { waitMs: 3_000, untilClose: true });
    expect(answer).toMatchObject({ status: 408, closed: true });
  });

  it('still allows an honest request afterwards, and holds no body bytes', async () => {
    expect((await rawExchange(served.server.address, [honest()], { waitMs: 300 })).status).toBe(200);
    expect(served.server.load().bufferedBytes).toBe(0);
  });
});
