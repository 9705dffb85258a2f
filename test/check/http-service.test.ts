/**
 * The Check service's HTTP face (Envoy's http_service): the same handler, the same decision
 * and the same telemetry as a gRPC Check, its answer in the form Envoy's HTTP client reads.
 */
import { describe, expect, it } from 'vitest';
import type { AccessRequest, Authorization, Decision } from '../../src/domain/index.js';
import type { HttpServiceAnswer, HttpServiceRequest } from '../../src/envoy/index.js';
import { createAuthorizationService, type AuthorizationServiceOptions, type CheckHandler } from '../../src/check/authorization-service.js';

const SPIFFE = 'spiffe://prod.example/ns/checkout/sa/checkout';
const decided = (verdict: Decision['verdict'], reason: Decision['reason']): Authorization => ({ decision: { id: 'd-1', verdict, reason, generation: 2 } });
const FROM_ENVOY: HttpServiceRequest = { method: 'POST', target: '/authz/v1/charges', rawHeaders: ['host', 'payments', 'x-request-id', 'req-7'] };

interface Observed {
  readonly result: Authorization;
  readonly request: AccessRequest | undefined;
}

function serve(handler: CheckHandler, options: AuthorizationServiceOptions = {}) {
  const observed: Observed[] = [];
  const service = createAuthorizationService(handler, {
    httpPathPrefix: '/authz',
    decisionIdFactory: () => 'generated-id',
    observe: (result, request) => observed.push({ result, request }),
    ...options,
  });
  const ask = (request: HttpServiceRequest) => new Promise<HttpServiceAnswer>((resolve) => service.checkHttp(request, resolve));
  return { service, observed, ask };
}

describe('checkHttp', () => {
  it('hands the handler the request without the path prefix, and answers its allow 200 with the principal for upstream', async () => {
    let seen: AccessRequest | undefined;
    const { ask } = serve((request) => ((seen = request), { ...decided('allow', 'policy_allow'), subject: { workload: { trustDomain: 'prod.example', path: '/ns/checkout/sa/checkout', uri: SPIFFE } } }));
    expect(await ask(FROM_ENVOY)).toEqual({ status: 200, headers: { 'x-meshwarden-principal': SPIFFE }, body: '' });
    expect(seen).toMatchObject({ method: 'POST', path: '/v1/charges', host: 'payments', requestId: 'req-7' });
  });

  it('answers a deny 403 with the JSON body that names the request id', async () => {
    const { ask } = serve(() => decided('deny', 'default_deny'));
    const answer = await ask(FROM_ENVOY);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: 'forbidden', request_id: 'req-7' });
  });

  it('tells telemetry of every answer, with the request it read', async () => {
    const { ask, observed } = serve(() => decided('allow', 'default_allow'));
    await ask(FROM_ENVOY);
    expect(observed).toHaveLength(1);
    expect(observed[0]!.request).toMatchObject({ path: '/v1/charges' });
  });

  it('answers a request Envoy could not have sent 400 without asking the handler, and tells telemetry which attribute', async () => {
    let asked = false;
    const { ask, observed } = serve(() => ((asked = true), decided('allow', 'policy_allow')));
    const answer = await ask({ ...FROM_ENVOY, target: '/elsewhere/v1/charges' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request' });
    expect(asked).toBe(false);
    expect(observed[0]!.result.decision).toMatchObject({ verdict: 'invalid_request', reason: 'invalid_path', detail: expect.stringContaining('path: ') });
  });

  it('answers a refusal of the transport 400, naming the attribute to telemetry', async () => {
    const { service, observed } = serve(() => decided('allow', 'policy_allow'));
    const answer = await new Promise<HttpServiceAnswer>((resolve) => service.refuseHttp('request_too_large', 'body', 'past http.limits.bodyBytes', resolve));
    expect(answer.status).toBe(400);
    expect(observed[0]!.result.decision).toMatchObject({ verdict: 'invalid_request', reason: 'request_too_large', detail: 'body: past http.limits.bodyBytes' });
  });

  it('answers a handler that throws 403, never 200', async () => {
    const { ask } = serve(() => {
      throw new Error('boom');
    });
    expect((await ask(FROM_ENVOY)).status).toBe(403);
  });

  it.each(['authz', '/authz/', '/a b'])('refuses the path prefix %j at start-up', (httpPathPrefix) => {
    expect(() => createAuthorizationService(() => decided('allow', 'policy_allow'), { httpPathPrefix })).toThrow(TypeError);
  });
});
