/**
 * One meshwarden, one Envoy, every listener pair alike but for how Envoy asks: `grpc_service`
 * on one, `http_service` on the other (envoy/sidecar-http.yaml's settings). One table of
 * requests goes through both: the same decisions (verdict, reason, policy, destination, caller),
 * the same answers to the client (status, body, content type, challenge) and the same
 * upstream headers, on each gRPC transport. Callers are told apart by XFCC (Envoy's
 * SANITIZE_SET over mTLS, which meshwarden trusts: identity.trustForwardedClientCert) and by
 * JWT-SVIDs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BILLING, CART, POLICIES as IDENTITY_POLICIES, createIdentityWorld, svid, type IdentityWorld } from '../helpers/identity-fixtures.js';
import {
  HTTP_PATH_PREFIX,
  appCluster,
  bootstrap,
  extAuthzFilter,
  extAuthzHttpFilter,
  httpListener,
  meshwardenCluster,
  meshwardenHttpCluster,
} from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send, type Answer, type ClientTls } from '../helpers/envoy/http-client.js';
import { MeshPki } from '../helpers/envoy/mesh-pki.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import { makeKey } from '../identity/helpers/tokens.js';

/** The identity world's (orders only from cart), and two on the catalog. */
const POLICIES = `${IDENTITY_POLICIES}
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: catalog-public }
spec:
  target: { services: ["catalog"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/public/{**}"] } }] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: catalog-tenants }
spec:
  target: { services: ["catalog"] }
  action: DENY
  rules: [{ when: [{ key: "request.headers[x-tenant]", values: ["blocked"] }] }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: catalog-admin-from-loopback }
spec:
  target: { services: ["catalog"] }
  action: ALLOW
  rules:
    - from: [{ source: { ipBlocks: ["127.0.0.1/32"] } }]
      to: [{ operation: { paths: ["/admin/{**}"] } }]
`;

const ROUTES = [
  { name: 'orders', match: { prefix: '/orders/' }, service: 'orders', namespace: 'shop' },
  { name: 'catalog', match: { prefix: '/' }, service: 'catalog', namespace: 'shop' },
];

type Caller = 'cart' | 'billing' | 'nobody';

interface Case {
  readonly name: string;
  readonly path: string;
  /** Over mTLS with this caller's SVID; `nobody` is plaintext. */
  readonly caller: Caller;
  readonly headers?: (tokens: Tokens) => Record<string, string>;
  /** What both must agree on, and say. */
  readonly expected: { readonly status: number; readonly principal?: string; readonly reason?: string };
}

interface Tokens {
  readonly cartSvid: string;
  readonly forged: string;
}

const CASES: readonly Case[] = [
  { name: 'allows a permitted caller (XFCC), naming it upstream', path: '/orders/42', caller: 'cart', expected: { status: 200, principal: CART, reason: 'policy_allow' } },
  { name: 'denies a caller the policy does not name 403 with our body', path: '/orders/42', caller: 'billing', expected: { status: 403, reason: 'default_deny' } },
  {
    name: 'overwrites a principal header the caller sent with the verified one',
    path: '/orders/42', caller: 'cart', headers: () => ({ 'x-meshwarden-principal': BILLING }),
    expected: { status: 200, principal: CART, reason: 'policy_allow' },
  },
  {
    name: 'strips a principal header sent by a caller without identity',
    path: '/public/index.html', caller: 'nobody', headers: () => ({ 'x-meshwarden-principal': CART }),
    expected: { status: 200, reason: 'policy_allow' },
  },
  {
    name: 'never takes an XFCC the caller wrote (Envoy sanitizes it)',
    path: '/orders/42', caller: 'nobody', headers: () => ({ 'x-forwarded-client-cert': `By=spiffe://a.test/ns/shop/sa/orders;URI=${CART}` }),
    expected: { status: 403, reason: 'default_deny' },
  },
  {
    name: 'takes a valid JWT-SVID as the caller',
    path: '/orders/42', caller: 'nobody', headers: (t) => ({ authorization: `Bearer ${t.cartSvid}` }),
    expected: { status: 200, principal: CART, reason: 'policy_allow' },
  },
  {
    name: 'answers an invalid JWT 401 with a Bearer challenge',
    path: '/public/index.html', caller: 'nobody', headers: (t) => ({ authorization: `Bearer ${t.forged}` }),
    expected: { status: 401, reason: 'invalid_token' },
  },
  { name: 'answers a path no server reads one way 400', path: '/public/%zz', caller: 'nobody', expected: { status: 400, reason: 'invalid_path' } },
  { name: 'judges a dot-segment walk as the path Envoy normalized it to', path: '/public/../orders/42', caller: 'nobody', expected: { status: 403, reason: 'default_deny' } },
  { name: 'allows by the caller\'s address (ipBlocks)', path: '/admin/users', caller: 'nobody', expected: { status: 200, reason: 'policy_allow' } },
  { name: 'reads a request header a DENY names', path: '/public/x', caller: 'nobody', headers: () => ({ 'x-tenant': 'blocked' }), expected: { status: 403, reason: 'policy_deny' } },
];

/** What a client and the workload saw of one request, and the decision behind it: all that must agree. */
interface Outcome {
  readonly status: number;
  readonly error?: unknown;
  readonly contentType?: string | string[];
  readonly challenge?: string | string[];
  /** The principal header the workload got (absent: none). */
  readonly principal?: string;
  readonly reachedWorkload: boolean;
  readonly decision: Record<string, unknown>;
}

const DECIDED = ['decision', 'reason', 'policy', 'rule', 'destination', 'source_principal', 'method', 'path', 'host'] as const;

describeWithEnvoy.each(TRANSPORTS)('the HTTP service decides as the gRPC service does (meshwarden on %s)', (transport) => {
  let world: IdentityWorld;
  let stack: Stack;
  let callers: Record<Caller, ClientTls | undefined>;
  let tokens: Tokens;

  beforeAll(async () => {
    world = await createIdentityWorld();
    const mesh = new MeshPki(world.rootA);
    callers = { cart: mesh.svid('cart', CART, world.rootA), billing: mesh.svid('billing', BILLING, world.rootA), nobody: undefined };
    tokens = { cartSvid: await svid(world.keyA), forged: await svid(makeKey('a1')) };
    const config = world.configText().replace('identity:\n', 'identity:\n  trustForwardedClientCert: true\n');
    stack = await startStack({
      transport,
      meshwardenConfig: `${config}\nhttp: { address: "127.0.0.1:0", pathPrefix: "${HTTP_PATH_PREFIX}" }\n`,
      configDir: world.dir,
      files: { 'policies.yaml': POLICIES },
      envoy: ({ grpc, http, upstream }) => {
        const listeners = (mode: string, filter: Record<string, unknown>) => [
          httpListener({ name: `${mode}_mtls`, routes: ROUTES, filters: [filter], tls: mesh.serving([world.rootA]) }),
          httpListener({ name: `${mode}_plain`, routes: ROUTES, filters: [filter], sanitizeClientCert: true }),
        ];
        return bootstrap({
          listeners: [...listeners('grpc', extAuthzFilter()), ...listeners('http', extAuthzHttpFilter())],
          clusters: [appCluster(upstream), meshwardenCluster(grpc), meshwardenHttpCluster(http)],
        });
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  async function outcome(mode: 'grpc' | 'http', test: Case): Promise<Outcome> {
    const tls = callers[test.caller];
    const before = stack.upstream.requests.length;
    const answer = await send(stack.port(`${mode}_${tls ? 'mtls' : 'plain'}`), test.path, { ...(tls ? { tls } : {}), headers: test.headers?.(tokens) ?? {} });
    const reachedWorkload = stack.upstream.requests.length > before;
    const seen = reachedWorkload ? (answer.json()['headers'] as Record<string, string>) : undefined;
    return {
      status: answer.status,
      ...(reachedWorkload ? {} : { error: answer.json()['error'], contentType: answer.headers['content-type'] }),
      ...(answer.headers['www-authenticate'] ? { challenge: answer.headers['www-authenticate'] } : {}),
      ...(seen?.['x-meshwarden-principal'] ? { principal: seen['x-meshwarden-principal'] } : {}),
      reachedWorkload,
      decision: await decisionBehind(answer, seen),
    };
  }

  /** The decision log line of this request: by the request id its body named, or the workload saw. */
  async function decisionBehind(answer: Answer, seen: Record<string, string> | undefined): Promise<Record<string, unknown>> {
    const requestId = seen?.['x-request-id'] ?? answer.json()['request_id'];
    const line = () => stack.meshwarden.decisions.find((l) => l['request_id'] === requestId);
    await expect.poll(line).toBeTruthy();
    const decided = line()!;
    return Object.fromEntries(DECIDED.filter((key) => decided[key] !== undefined).map((key) => [key, decided[key]]));
  }

  it.each(CASES.map((test) => [test.name, test] as const))('%s', async (_name, test) => {
    const overGrpc = await outcome('grpc', test);
    const overHttp = await outcome('http', test);
    expect(overHttp).toEqual(overGrpc);
    expect(overGrpc).toMatchObject({ status: test.expected.status, reachedWorkload: test.expected.status === 200 });
    expect(overGrpc.principal).toBe(test.expected.principal);
    if (test.expected.reason) expect(overGrpc.decision['reason']).toBe(test.expected.reason);
  });
});
