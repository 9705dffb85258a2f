/**
 * `request.body.json[...]` conditions through a real Envoy with `with_request_body`: the body
 * Envoy forwards (as `body`, and as `raw_body` under `pack_as_bytes`) decides, a DENY on a
 * field denies it, and a body Envoy cut at `max_request_bytes` (`allow_partial_message: true`)
 * is never allowed by it. No decision log line and no Envoy access log line holds the body.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, extAuthzFilter, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { BODY_POLICIES } from '../helpers/body-policies.js';
import { send, type Answer } from '../helpers/envoy/http-client.js';
import { startStack, type Stack, type Transport } from '../helpers/envoy/stack.js';
import { TRANSPORTS } from '../helpers/transports.js';

const MAX_REQUEST_BYTES = 1_024;
const SECRET = 'pan-4111111111111111';
const JSON_TYPE = { 'content-type': 'application/json' };

/** ext_authz forwarding the body: whole only (Envoy answers 413 past the bound), or cut at it. */
function withBody(allowPartial: boolean, packAsBytes = false): Record<string, unknown> {
  const filter = extAuthzFilter();
  Object.assign(filter['typed_config'] as Record<string, unknown>, {
    with_request_body: { max_request_bytes: MAX_REQUEST_BYTES, allow_partial_message: allowPartial, pack_as_bytes: packAsBytes },
  });
  return filter;
}

const ROUTES = [{ name: 'shop', match: { prefix: '/' }, service: 'shop' }];
const LISTENERS = ['whole', 'partial', 'packed'] as const;

function start(transport: Transport): Promise<Stack> {
  return startStack({
    transport,
    // the log names Envoy's partial-body mark, so a test can tell a cut body from a whole one
    meshwardenConfig: 'policies: [./policies.yaml]\ndecisionLog: { output: stdout, allowSampleRate: 1, headers: [x-envoy-auth-partial-body] }',
    files: { 'policies.yaml': BODY_POLICIES },
    envoy: ({ grpc, upstream }) => bootstrap({
      listeners: [
        httpListener({ name: 'whole', routes: ROUTES, filters: [withBody(false)] }),
        httpListener({ name: 'partial', routes: ROUTES, filters: [withBody(true)] }),
        httpListener({ name: 'packed', routes: ROUTES, filters: [withBody(true, true)] }),
      ],
      clusters: [appCluster(upstream), meshwardenCluster(grpc)],
    }),
  });
}

function pay(port: number, path: string, body: object | string, headers: Record<string, string> = JSON_TYPE) {
  return send(port, path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** A JSON body past max_request_bytes whose first bytes say amount 10. */
const LONG = { amount: 10, card: SECRET, note: 'n'.repeat(MAX_REQUEST_BYTES * 2) };

describeWithEnvoy.each(TRANSPORTS)('request body conditions through Envoy (meshwarden on %s)', (transport) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await start(transport);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** meshwarden's decision log line for a 403, found by the request id its body names. */
  async function decisionFor(answer: Answer): Promise<Record<string, unknown>> {
    expect(answer.status).toBe(403);
    const requestId = answer.json()['request_id'];
    const line = () => stack.meshwarden.decisions.find((l) => l['request_id'] === requestId);
    await expect.poll(line).toBeTruthy();
    return line()!;
  }

  it('allows a POST whose JSON says "amount": 10, and forwards its whole body', async () => {
    for (const listener of LISTENERS) {
      const body = { amount: 10, card: SECRET };
      expect((await pay(stack.port(listener), '/pay', body)).status, listener).toBe(200);
      expect(stack.upstream.requests.at(-1)?.bodyBytes, listener).toBe(JSON.stringify(body).length);
      expect((await pay(stack.port(listener), '/small', { amount: 10 })).status, listener).toBe(200);
    }
  });

  it('denies "amount": 100000 by the DENY on it, and names that policy', async () => {
    for (const listener of LISTENERS) {
      const answer = await pay(stack.port(listener), '/pay', { amount: 100000, card: SECRET });
      expect(await decisionFor(answer), listener).toMatchObject({ policy: 'deny-large-amounts', reason: 'policy_deny' });
    }
  });

  it('denies a body Envoy cut at max_request_bytes, for the DENY and for the ALLOW that read it', async () => {
    for (const listener of ['partial', 'packed']) {
      const before = stack.upstream.requests.length;
      const cut = { headers: { 'x-envoy-auth-partial-body': 'true' } };
      expect(await decisionFor(await pay(stack.port(listener), '/pay', LONG)), listener).toMatchObject({ policy: 'deny-large-amounts', reason: 'policy_deny', ...cut });
      expect(await decisionFor(await pay(stack.port(listener), '/small', LONG)), listener).toMatchObject({ reason: 'default_deny', ...cut });
      expect(stack.upstream.requests).toHaveLength(before);
    }
    // without allow_partial_message Envoy refuses it itself
    expect((await pay(stack.port('whole'), '/pay', LONG)).status).toBe(413);
  });

  it('denies a body whose content type is not JSON, or that is not JSON', async () => {
    for (const listener of LISTENERS) {
      expect((await pay(stack.port(listener), '/pay', { amount: 10 }, { 'content-type': 'text/plain' })).status, listener).toBe(403);
      expect((await pay(stack.port(listener), '/small', 'amount=10')).status, listener).toBe(403);
      expect((await pay(stack.port(listener), '/pay', '{"amount":100000,"amount":10}')).status, listener).toBe(403);
    }
  });

  it('keeps every body out of the decision log and the access log', async () => {
    await pay(stack.port('partial'), '/pay', { amount: 10, card: SECRET });
    await pay(stack.port('partial'), '/pay', { amount: 100000, card: SECRET });
    const decisions = stack.meshwarden.decisions;
    expect(decisions.length).toBeGreaterThan(10);
    expect(JSON.stringify(decisions)).not.toContain(SECRET);
    expect(JSON.stringify(stack.meshwarden.logs)).not.toContain(SECRET);
    expect(JSON.stringify(await stack.envoy.accessLog(1))).not.toContain(SECRET);
  });
});
