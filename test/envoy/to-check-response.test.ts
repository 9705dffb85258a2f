import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/index.js';
import { structToJson } from '../../src/envoy/struct-json.js';
import { DEFAULT_PRINCIPAL_HEADER, toCheckResponse } from '../../src/envoy/to-check-response.js';
import { VERDICT_STATUS } from '../../src/envoy/verdict-status.js';

const ALLOW: Decision = { id: 'd-1', verdict: 'allow', reason: 'policy_allow', by: { policy: 'prod/payments-api', rule: 0 }, generation: 4 };
const DENY: Decision = { id: 'd-2', verdict: 'deny', reason: 'default_deny', generation: 4 };
const CTX = { principalHeader: DEFAULT_PRINCIPAL_HEADER, requestId: 'req-9' };
const SPIFFE = 'spiffe://prod.example/ns/checkout/sa/checkout';

function headerMap(headers: ReadonlyArray<{ header: { key: string; value: string } }> | undefined): Record<string, string> {
  return Object.fromEntries((headers ?? []).map((h) => [h.header.key, h.header.value]));
}

describe('toCheckResponse', () => {
  it('allows with status OK and sets the principal header, overwriting any client copy', () => {
    const response = toCheckResponse(ALLOW, { ...CTX, subjectPrincipal: SPIFFE });
    expect(response.status.code).toBe(0);
    expect(response.deniedResponse).toBeUndefined();
    expect(response.okResponse?.headers).toEqual([
      { header: { key: 'x-meshwarden-principal', value: SPIFFE }, append: { value: false }, appendAction: 2 },
    ]);
    // Envoy removes after it sets: listing the header here would delete our own value.
    expect(response.okResponse?.headersToRemove).toEqual([]);
  });

  it('removes a client-sent principal header when the caller has no identity', () => {
    const response = toCheckResponse(ALLOW, { ...CTX, principalHeader: 'x-caller' });
    expect(response.okResponse).toEqual({ headers: [], headersToRemove: ['x-caller'] });
  });

  const denials: ReadonlyArray<[Decision['verdict'], number, number, string]> = [
    ['deny', 7, 403, 'forbidden'],
    ['unauthenticated', 16, 401, 'unauthenticated'],
    ['invalid_request', 3, 400, 'invalid_request'],
  ];

  it.each(denials)('answers %s with gRPC %i, HTTP %i and a JSON body without policy names', (verdict, grpc, http, error) => {
    const decision: Decision = { ...DENY, verdict, by: { policy: 'secret-policy-name', rule: 2 } };
    const response = toCheckResponse(decision, CTX);
    expect(response.status.code).toBe(grpc);
    expect(response.okResponse).toBeUndefined();
    expect(response.deniedResponse?.status.code).toBe(http);
    expect(JSON.parse(response.deniedResponse?.body ?? '')).toEqual({ error, request_id: 'req-9' });
    expect(response.deniedResponse?.body).not.toContain('secret-policy-name');
    expect(headerMap(response.deniedResponse?.headers)['content-type']).toBe('application/json');
  });

  it('challenges an unauthenticated caller with WWW-Authenticate', () => {
    const response = toCheckResponse({ ...DENY, verdict: 'unauthenticated', reason: 'invalid_token' }, CTX);
    expect(headerMap(response.deniedResponse?.headers)['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it.each(['invalid_certificate', 'invalid_principal'] as const)(
    'does not offer a Bearer challenge when the %s, not a token, failed',
    (reason) => {
      const response = toCheckResponse({ ...DENY, verdict: 'unauthenticated', reason }, CTX);
      expect(response.deniedResponse?.status?.code).toBe(401);
      expect(headerMap(response.deniedResponse?.headers)).not.toHaveProperty('www-authenticate');
    },
  );

  it('does not challenge a denied caller', () => {
    expect(headerMap(toCheckResponse(DENY, CTX).deniedResponse?.headers)).not.toHaveProperty('www-authenticate');
  });

  it('prefers the request id of the AccessRequest and escapes it in the body', () => {
    const request = { requestId: 'a"b</x>' } as Parameters<typeof toCheckResponse>[1]['request'];
    const body = toCheckResponse(DENY, { ...CTX, request }).deniedResponse?.body ?? '';
    expect(JSON.parse(body)).toEqual({ error: 'forbidden', request_id: 'a"b</x>' });
  });

  it('reports why in dynamic metadata, on allow and deny alike', () => {
    const decision: Decision = {
      ...ALLOW,
      dryRun: { verdict: 'deny', by: { policy: 'prod/new-rules' } },
      audit: { policy: 'prod/audit-all' },
    };
    expect(structToJson(toCheckResponse(decision, CTX).dynamicMetadata)).toEqual({
      decision: 'allow',
      reason: 'policy_allow',
      policy: 'prod/payments-api',
      rule: 0,
      dry_run: 'deny',
      dry_run_policy: 'prod/new-rules',
      audit: true,
      audit_policy: 'prod/audit-all',
      decision_id: 'd-1',
      generation: 4,
    });
    expect(structToJson(toCheckResponse(DENY, CTX).dynamicMetadata)).toEqual({
      decision: 'deny',
      reason: 'default_deny',
      audit: false,
      decision_id: 'd-2',
      generation: 4,
    });
  });

  it('maps every verdict through one table', () => {
    expect(Object.keys(VERDICT_STATUS).sort()).toEqual(['allow', 'deny', 'invalid_request', 'unauthenticated']);
    for (const [verdict, status] of Object.entries(VERDICT_STATUS)) {
      const response = toCheckResponse({ ...DENY, verdict: verdict as Decision['verdict'] }, CTX);
      expect(response.status.code).toBe(status.grpc);
      expect(response.deniedResponse?.status.code ?? 200).toBe(status.http);
    }
  });
});
