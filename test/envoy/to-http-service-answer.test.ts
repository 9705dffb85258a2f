/**
 * The one CheckResponse, as Envoy's HTTP client reads it back: 200 with the headers that go
 * upstream and the list of those to remove; a denial with the gRPC service's status, body and
 * headers, always a 4xx (a 5xx is Envoy's "the service failed", and loses the body).
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/index.js';
import { DEFAULT_PRINCIPAL_HEADER, toCheckResponse } from '../../src/envoy/to-check-response.js';
import { toHttpServiceAnswer } from '../../src/envoy/to-http-service-answer.js';

const CTX = { principalHeader: DEFAULT_PRINCIPAL_HEADER, requestId: 'req-9' };
const SPIFFE = 'spiffe://prod.example/ns/checkout/sa/checkout';
const decision = (verdict: Decision['verdict'], reason: Decision['reason']): Decision => ({ id: 'd-1', verdict, reason, generation: 3, by: { policy: 'secret-policy' } });

describe('toHttpServiceAnswer', () => {
  it('allows with 200 and the verified principal as a header for allowed_upstream_headers', () => {
    const answer = toHttpServiceAnswer(toCheckResponse(decision('allow', 'policy_allow'), { ...CTX, subjectPrincipal: SPIFFE }));
    expect(answer).toEqual({ status: 200, headers: { 'x-meshwarden-principal': SPIFFE }, body: '' });
  });

  it('allows a caller without identity with 200 and the principal header listed for removal, so no client copy goes upstream', () => {
    const answer = toHttpServiceAnswer(toCheckResponse(decision('allow', 'default_allow'), CTX));
    expect(answer).toEqual({ status: 200, headers: { 'x-envoy-auth-headers-to-remove': 'x-meshwarden-principal' }, body: '' });
  });

  it.each([
    ['deny', 'default_deny', 403, { 'content-type': 'application/json' }],
    ['unauthenticated', 'invalid_token', 401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }],
    ['invalid_request', 'invalid_path', 400, { 'content-type': 'application/json' }],
  ] as const)('answers %s with the gRPC service\'s denied status, body and headers', (verdict, reason, status, headers) => {
    const response = toCheckResponse(decision(verdict, reason), CTX);
    const answer = toHttpServiceAnswer(response);
    expect(answer).toEqual({ status, headers, body: response.deniedResponse!.body });
    expect(answer.body).not.toContain('secret-policy');
  });

  it('denies 403 what is neither OK nor a 4xx denial, never 200 and never a 5xx', () => {
    expect(toHttpServiceAnswer({ status: { code: 0 } }).status).toBe(403);
    expect(toHttpServiceAnswer({ status: { code: 7 } }).status).toBe(403);
    expect(toHttpServiceAnswer({ status: { code: 7 }, deniedResponse: { status: { code: 200 }, headers: [], body: '' } }).status).toBe(403);
    expect(toHttpServiceAnswer({ status: { code: 14 }, deniedResponse: { status: { code: 503 }, headers: [], body: 'x' } })).toMatchObject({ status: 403, body: 'x' });
  });
});
