/**
 * The request body Envoy forwards (`with_request_body`) reaches the AccessRequest as the bytes
 * Envoy sent: `body` (a proto string, as Envoy encodes it by default) or `raw_body` (under
 * `pack_as_bytes`), unparsed and uncopied, invalid UTF-8 included.
 */
import { describe, expect, it } from 'vitest';
import { decodeCheckRequest, encodeCheckRequest } from '../../src/envoy/check-codec.js';
import { toAccessRequest } from '../../src/envoy/to-access-request.js';
import type { HttpRequestMessage } from '../../src/envoy/wire-messages.js';
import { encodeOfficial } from '../helpers/official-protos.js';

const HTTP = { method: 'POST', path: '/pay', host: 'shop' };

/** The AccessRequest of a CheckRequest Envoy's own protos encoded. */
function fromEnvoy(http: Record<string, unknown>) {
  const wire = encodeOfficial('envoy.service.auth.v3.CheckRequest', { attributes: { request: { http: { ...HTTP, ...http } } } });
  return { wire, request: toAccessRequest(decodeCheckRequest(wire)) };
}

function fromOurCodec(http: HttpRequestMessage) {
  return toAccessRequest(decodeCheckRequest(encodeCheckRequest({ attributes: { request: { http: { ...HTTP, ...http } } } })));
}

describe('the request body of a Check', () => {
  it('is the UTF-8 of Envoy\'s body string', () => {
    const body = '{"amount":10,"note":"café ✓"}';
    expect(Buffer.from(fromEnvoy({ body }).request.body!).toString('utf8')).toBe(body);
  });

  it('is raw_body as sent, under pack_as_bytes', () => {
    const rawBody = Buffer.from([0x7b, 0x7d, 0x00, 0xff]);
    expect(Buffer.from(fromEnvoy({ rawBody }).request.body!)).toEqual(rawBody);
  });

  it('keeps invalid UTF-8 in body as the bytes they are, for the policy to refuse', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    expect(Buffer.from(fromOurCodec({ body: bytes }).body!)).toEqual(bytes);
  });

  it('is absent when Envoy sent none, or an empty one', () => {
    expect(fromEnvoy({}).request.body).toBeUndefined();
    expect(fromEnvoy({ body: '' }).request.body).toBeUndefined();
    expect(fromOurCodec({ rawBody: new Uint8Array(0) }).body).toBeUndefined();
  });

  it('is a view of the message bytes, not a copy', () => {
    const { wire, request } = fromEnvoy({ body: 'x'.repeat(10_000) });
    expect(request.body!.buffer).toBe(wire.buffer);
  });
});
