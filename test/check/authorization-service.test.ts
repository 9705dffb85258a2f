import { describe, expect, it, vi } from 'vitest';
import type { AccessRequest, Authorization, Decision, Subject } from '../../src/domain/index.js';
import type { CheckRequestMessage, CheckResponseMessage } from '../../src/envoy/index.js';
import { createAuthorizationService, UNREADABLE_REQUEST, type CheckHandler } from '../../src/check/authorization-service.js';

const SPIFFE = 'spiffe://prod.example/ns/checkout/sa/checkout';
const ALLOW: Decision = { id: 'd-1', verdict: 'allow', reason: 'policy_allow', generation: 3 };
const allowed = (): Authorization => ({ decision: ALLOW });
const subjectOf = (uri: string): Subject => ({ workload: { trustDomain: 'prod.example', path: new URL(uri).pathname, uri } });

function checkRequest(path = '/v1/charges', principal = SPIFFE): CheckRequestMessage {
  return {
    attributes: {
      source: { principal },
      request: { http: { id: '1', method: 'GET', path, host: 'payments', headers: { 'x-request-id': 'req-1' } } },
    },
  };
}

/** Runs one Check; reports whether the answer came before `check` returned. */
function runCheck(handler: CheckHandler, message: CheckRequestMessage, options = {}) {
  const service = createAuthorizationService(handler, { decisionIdFactory: () => 'generated-id', ...options });
  const responses: CheckResponseMessage[] = [];
  let returned = false;
  let synchronous = false;
  const answered = new Promise<CheckResponseMessage>((resolve) => {
    service.check(message, (response) => {
      synchronous = !returned;
      responses.push(response);
      resolve(response);
    });
  });
  returned = true;
  return { answered, responses, synchronous: () => synchronous };
}

const upstreamHeaders = (response: CheckResponseMessage) =>
  Object.fromEntries((response.okResponse?.headers ?? []).map((h) => [h.header.key, h.header.value]));
const metadata = (response: CheckResponseMessage) =>
  Object.fromEntries(Object.entries(response.dynamicMetadata?.fields ?? {}).map(([k, v]) => [k, v.stringValue ?? v.numberValue ?? v.boolValue]));

describe('createAuthorizationService', () => {
  it('answers a synchronous handler synchronously', async () => {
    const run = runCheck(allowed, checkRequest());
    expect(run.synchronous()).toBe(true);
    expect((await run.answered).status.code).toBe(0);
  });

  it('answers an asynchronous handler once it resolves', async () => {
    const run = runCheck(async () => allowed(), checkRequest());
    expect(run.synchronous()).toBe(false);
    expect((await run.answered).status.code).toBe(0);
  });

  it('hands the handler the canonical AccessRequest', async () => {
    let seen: AccessRequest | undefined;
    await runCheck((request) => ((seen = request), allowed()), checkRequest('/v1//charges/%7Ex?x=1')).answered;
    expect(seen).toMatchObject({ path: '/v1/charges/~x', query: 'x=1', requestId: 'req-1', method: 'GET' });
  });

  const failures: ReadonlyArray<[string, CheckHandler]> = [
    ['throws', () => { throw new Error('boom'); }],
    ['rejects', () => Promise.reject(new Error('boom'))],
    ['returns nothing', () => undefined as unknown as Authorization],
    ['resolves to nothing', async () => undefined as unknown as Authorization],
    ['returns a bare decision instead of a result', () => ALLOW as unknown as Authorization],
    ['returns an unknown verdict', () => ({ decision: { ...ALLOW, verdict: 'maybe' } }) as unknown as Authorization],
  ];

  it.each(failures)('denies with internal_error when the handler %s, and reports it', async (_name, handler) => {
    const onError = vi.fn();
    const observe = vi.fn();
    const run = runCheck(handler, checkRequest(), { onError, observe });
    const response = await run.answered;
    expect(response.status.code).toBe(7);
    expect(response.deniedResponse?.status.code).toBe(403);
    expect(metadata(response)).toMatchObject({ decision: 'deny', reason: 'internal_error', decision_id: 'generated-id' });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(observe).toHaveBeenCalledTimes(1);
    expect(run.responses).toHaveLength(1);
  });

  const invalid: ReadonlyArray<[string, CheckRequestMessage, string]> = [
    ['an encoded slash', checkRequest('/a%2Fb'), 'invalid_path'],
    ['no http attributes and no addresses (neither an HTTP request nor a connection)', { attributes: {} }, 'missing_connection_attributes'],
    ['http attributes present but empty', { attributes: { request: { http: {} } } }, 'missing_http_attributes'],
    ['unreadable bytes', UNREADABLE_REQUEST, 'missing_http_attributes'],
  ];

  it.each(invalid)('answers 400 to a request with %s without calling the handler', async (_name, message, reason) => {
    const handler = vi.fn(allowed);
    const observe = vi.fn();
    const response = await runCheck(handler, message, { observe }).answered;
    expect(handler).not.toHaveBeenCalled();
    expect(response.status.code).toBe(3);
    expect(response.deniedResponse?.status.code).toBe(400);
    expect(metadata(response)).toMatchObject({ decision: 'invalid_request', reason });
    expect(observe.mock.calls[0]?.[1]).toBeUndefined();
  });

  it('puts the request id of an unreadable request into the 400 body when it can', async () => {
    const response = await runCheck(allowed, checkRequest('relative')).answered;
    expect(JSON.parse(response.deniedResponse?.body ?? '')).toEqual({ error: 'invalid_request', request_id: 'req-1' });
  });

  it('tells the observer the request id of an unreadable request in the result, there being no request', async () => {
    const observe = vi.fn();
    await runCheck(allowed, checkRequest('relative'), { observe }).answered;
    const [result, request] = observe.mock.calls[0] as [Authorization, AccessRequest | undefined];
    expect(result).toMatchObject({ decision: { verdict: 'invalid_request' }, requestId: 'req-1' });
    expect(request).toBeUndefined();
  });

  it("sets the principal header from the result's subject", async () => {
    const other = 'spiffe://prod.example/ns/batch/sa/batch';
    const response = await runCheck(() => ({ decision: ALLOW, subject: subjectOf(other) }), checkRequest(), { principalHeader: 'X-Caller' }).answered;
    expect(upstreamHeaders(response)).toEqual({ 'x-caller': other });
  });

  it('removes the principal header when the subject has no workload, whatever Envoy verified', async () => {
    const response = await runCheck(() => ({ decision: ALLOW, subject: {} }), checkRequest()).answered;
    expect(response.okResponse).toEqual({ headers: [], headersToRemove: ['x-meshwarden-principal'] });
  });

  it('falls back to the SPIFFE ID Envoy verified in mTLS for a result without a subject', async () => {
    const response = await runCheck(allowed, checkRequest()).answered;
    expect(upstreamHeaders(response)).toEqual({ 'x-meshwarden-principal': SPIFFE });
  });

  it('removes the principal header when the peer principal is not a SPIFFE ID', async () => {
    const response = await runCheck(allowed, checkRequest('/a', 'CN=legacy')).answered;
    expect(response.okResponse).toEqual({ headers: [], headersToRemove: ['x-meshwarden-principal'] });
  });

  it('observes every answer with the result whole and its duration in seconds, and survives an observer that throws', async () => {
    const onError = vi.fn();
    const observe = vi.fn(() => { throw new Error('metrics down'); });
    const result: Authorization = { decision: ALLOW, subject: subjectOf(SPIFFE), destination: 'payments' };
    const response = await runCheck(() => result, checkRequest(), { observe, onError }).answered;
    expect(response.status.code).toBe(0);
    const [observed, request, durationSeconds] = observe.mock.calls[0] as unknown as [Authorization, AccessRequest, number];
    expect(observed).toBe(result);
    expect(request.path).toBe('/v1/charges');
    expect(durationSeconds).toBeGreaterThan(0);
    expect(durationSeconds).toBeLessThan(1);
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('keeps the subject and destination of a result it could not answer, under the internal error it answered', async () => {
    const observe = vi.fn();
    const bad = { decision: { ...ALLOW, verdict: 'maybe' }, subject: subjectOf(SPIFFE), destination: 'payments' } as unknown as Authorization;
    await runCheck(() => bad, checkRequest(), { observe }).answered;
    expect(observe.mock.calls[0]?.[0]).toEqual({ decision: expect.objectContaining({ reason: 'internal_error' }), subject: subjectOf(SPIFFE), destination: 'payments' });
  });

  it('answers once even when a thenable settles twice', async () => {
    const twice = { then: (ok: (r: Authorization) => void, fail: (e: unknown) => void) => { ok(allowed()); ok(allowed()); fail(new Error('late')); } };
    const run = runCheck(() => twice as unknown as Promise<Authorization>, checkRequest());
    await run.answered;
    expect(run.responses).toHaveLength(1);
    expect(run.responses[0]?.status.code).toBe(0);
  });

  it('refuses a principal header that is not a header name at start-up', () => {
    expect(() => createAuthorizationService(allowed, { principalHeader: 'bad header' })).toThrow(TypeError);
  });
});
