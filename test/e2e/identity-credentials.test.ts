/**
 * Identity end to end: the built server as a real process with SPIFFE bundles written by the
 * test and an OIDC issuer whose keys come from a real loopback JWKS endpoint. Every answer is
 * read as Envoy reads it, and `reason` / `decision` in dynamic_metadata say why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, structToJson, type Decoded } from '../helpers/check-client.js';
import {
  API_AUDIENCE, BILLING, CART, IDP, PAY_B, checkWith, createIdentityWorld, svid, userToken, type IdentityWorld,
} from '../helpers/identity-fixtures.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makeKey, unsigned } from '../identity/helpers/tokens.js';

const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

let world: IdentityWorld;
let server: ServerProcess;
let client: CheckClient;

beforeAll(async () => {
  world = await createIdentityWorld();
  server = await startServer({ configText: world.configText(), configDir: world.dir });
  client = new CheckClient(server.grpc);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  await world?.close();
});

const metadata = (answer: Decoded) => structToJson(answer.dynamicMetadata);
const deniedHeader = (answer: Decoded, name: string) =>
  answer.deniedResponse?.headers?.find((h) => h.header.key === name)?.header.value;
const upstreamHeader = (answer: Decoded, name: string) =>
  answer.okResponse?.headers?.find((h) => h.header.key === name)?.header.value;

function expectUnauthenticated(answer: Decoded): void {
  expect(metadata(answer)).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_token' });
  expect(answer.status?.code).toBe(GRPC_UNAUTHENTICATED);
  expect(answer.deniedResponse?.status?.code).toBe('Unauthorized');
  expect(deniedHeader(answer, 'www-authenticate')).toBe('Bearer error="invalid_token"');
}

describe('a workload calling with a JWT-SVID', () => {
  it('is allowed by a policy on its SPIFFE ID, which is sent upstream', async () => {
    const answer = await client.check(checkWith({ service: 'orders', path: '/orders/42', token: await svid(world.keyA) }));
    expect(metadata(answer)).toMatchObject({ decision: 'allow', reason: 'policy_allow', policy: 'orders-from-cart' });
    expect(answer.status?.code ?? GRPC_OK).toBe(GRPC_OK);
    expect(upstreamHeader(answer, 'x-meshwarden-principal')).toBe(CART);
  });

  it('is denied when its verified SPIFFE ID is not the one the policy names', async () => {
    const token = await svid(world.keyA, { sub: BILLING });
    const answer = await client.check(checkWith({ service: 'orders', path: '/orders/42', token }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
    expect(answer.status?.code).toBe(GRPC_PERMISSION_DENIED);
  });

  it('is verified with the keys of its own trust domain, b.test included', async () => {
    const answer = await client.check(checkWith({ service: 'orders', path: '/orders/42', token: await svid(world.keyB, { sub: PAY_B }) }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
  });
});

describe('an end user with a token from the JWKS endpoint', () => {
  it('is allowed by a claim condition, after the server fetched the keys over HTTP', async () => {
    const token = await userToken(world.idpKey, { scope: ['orders:read', 'profile:read'] });
    const answer = await client.check(checkWith({ service: 'profile', path: '/me', token }));
    expect(metadata(answer)).toMatchObject({ decision: 'allow', policy: 'profile-by-claims', rule: 0 });
    expect(world.jwks.requests).toBeGreaterThan(0);
  });

  it('is denied, not unauthenticated, when the token is valid but lacks the claim', async () => {
    const token = await userToken(world.idpKey, { scope: ['orders:read'] });
    const answer = await client.check(checkWith({ service: 'profile', path: '/me', token }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
    expect(answer.deniedResponse?.status?.code).toBe('Forbidden');
    expect(deniedHeader(answer, 'www-authenticate')).toBeUndefined();
  });

  it('is allowed by a nested claim and denied when the nested value differs', async () => {
    const admin = await userToken(world.idpKey, { org: { name: 'acme', role: 'admin' } });
    const viewer = await userToken(world.idpKey, { org: { name: 'acme', role: 'viewer' } });
    const allowed = await client.check(checkWith({ service: 'profile', path: '/admin/users/7', method: 'DELETE', token: admin }));
    const denied = await client.check(checkWith({ service: 'profile', path: '/admin/users/7', method: 'DELETE', token: viewer }));
    expect(metadata(allowed)).toMatchObject({ decision: 'allow', policy: 'profile-by-claims', rule: 1 });
    expect(metadata(denied)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
  });
});

/**
 * Each credential is a valid one with exactly one defect; the decision log's detail (never
 * sent to the caller) shows it failed for that defect and not for something the cases share.
 */
const INVALID_CREDENTIALS: [string, (w: IdentityWorld) => Promise<string>, RegExp][] = [
  ['an expired JWT-SVID', (w) => svid(w.keyA, { iat: now() - 1200, exp: now() - 600 }), /"exp"/],
  ['a JWT-SVID for another audience', (w) => svid(w.keyA, { aud: ['someone-else'] }), /"aud"/],
  ['a JWT-SVID with a bad signature (right kid, wrong key)', () => svid(makeKey('a1')), /signature/],
  ['a JWT-SVID with alg none', async () => unsigned({ alg: 'none', typ: 'JWT' }, svidClaims()), /"none"/],
  ['a JWT-SVID of b.test signed with the key of a.test', (w) => svid(w.keyA, { sub: PAY_B }), /key a1 in trust domain b\.test/],
  ['an expired end-user token', (w) => userToken(w.idpKey, { scope: ['profile:read'], iat: now() - 1200, exp: now() - 600 }), /"exp"/],
  ['an end-user token for another audience', (w) => userToken(w.idpKey, { scope: ['profile:read'], aud: 'another-api' }), /"aud"/],
  ['an end-user token with a bad signature', () => userToken(makeKey('idp-1', 'RS256'), { scope: ['profile:read'] }), /signature/],
  ['an end-user token with alg none', async () => unsigned({ alg: 'none' }, { iss: IDP, sub: 'alice', aud: API_AUDIENCE, exp: now() + 600 }), /"none"/],
  ['a token of an unknown issuer', () => userToken(makeKey('evil-1'), { iss: 'https://evil.test' }), /issuer/],
  ['a token whose payload was edited after signing', async (w) => tamper(await svid(w.keyA, { sub: BILLING }), { sub: CART }), /signature/],
  ['a malformed token', async () => 'not-a-jwt', /parts/],
  ['a token whose parts are not JSON', async () => 'bm90.anNvbg.c2ln', /JSON/],
];

describe('a present but invalid credential', () => {
  it.each(INVALID_CREDENTIALS)('%s gets 401 with a Bearer challenge, whatever the policy says', async (_, make, why) => {
    const token = await make(world);
    // status/healthz is open to anyone, and orders to CART: only the credential can make these 401s
    const open = await client.check(checkWith({ service: 'status', path: '/healthz', token }));
    expectUnauthenticated(open);
    expectUnauthenticated(await client.check(checkWith({ service: 'orders', path: '/orders/42', token, principal: CART })));
    expect((await logged(open))['detail']).toMatch(why);
  });

  it('is logged with its reason but never with the token itself', async () => {
    const token = await svid(world.keyA, { exp: now() - 60, iat: now() - 120 });
    const line = await logged(await client.check(checkWith({ service: 'status', path: '/healthz', token })));
    expect(line).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_token' });
    expect(JSON.stringify(line)).not.toContain(token.split('.')[2]);
  });
});

/** The decision log line (stdout of the server) of an answer. */
async function logged(answer: Decoded): Promise<Record<string, unknown>> {
  const id = metadata(answer)['decision_id'];
  const line = () => server.decisions.find((l) => l['decision_id'] === id);
  await expect.poll(line).toBeTruthy();
  return line()!;
}

describe('absent credentials', () => {
  it('leave the decision to the policy: default deny where a principal is required', async () => {
    const answer = await client.check(checkWith({ service: 'orders', path: '/orders/42' }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
    expect(answer.deniedResponse?.status?.code).toBe('Forbidden');
  });

  it('leave the decision to the policy: allowed by a policy without principals, no identity sent upstream', async () => {
    const answer = await client.check(checkWith({ service: 'status', path: '/healthz' }));
    expect(metadata(answer)).toMatchObject({ decision: 'allow', policy: 'status-for-anyone' });
    expect(answer.okResponse?.headersToRemove).toContain('x-meshwarden-principal');
  });

  it('are not made up by a claim condition: no token, no end user', async () => {
    const answer = await client.check(checkWith({ service: 'profile', path: '/me', principal: CART }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
  });

  it('include another authorization scheme, which is not ours to judge', async () => {
    const request = checkWith({ service: 'status', path: '/healthz' });
    const http = (request.attributes as { request: { http: { headers: Record<string, string> } } }).request.http;
    http.headers['authorization'] = 'Basic YWxpY2U6c2VjcmV0';
    expect(metadata(await client.check(request))).toMatchObject({ decision: 'allow' });
  });
});

describe('the mTLS principal', () => {
  it('of a configured trust domain is the workload the policy sees', async () => {
    const answer = await client.check(checkWith({ service: 'orders', path: '/orders/42', principal: CART }));
    expect(metadata(answer)).toMatchObject({ decision: 'allow', policy: 'orders-from-cart' });
  });

  it('of an untrusted trust domain is denied, whatever the policy says', async () => {
    const answer = await client.check(checkWith({ service: 'status', path: '/healthz', principal: 'spiffe://c.test/ns/shop/sa/cart' }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'untrusted_trust_domain' });
    expect(answer.status?.code).toBe(GRPC_PERMISSION_DENIED);
    expect(answer.deniedResponse?.status?.code).toBe('Forbidden');
  });

  it('and a JWT-SVID naming the same workload are one caller', async () => {
    const answer = await client.check(checkWith({ service: 'orders', path: '/orders/42', principal: CART, token: await svid(world.keyA) }));
    expect(metadata(answer)).toMatchObject({ decision: 'allow', policy: 'orders-from-cart' });
  });

  it('and a JWT-SVID naming different workloads are a conflict, never a choice', async () => {
    const fromBilling = await svid(world.keyA, { sub: BILLING });
    for (const [principal, token] of [[BILLING, await svid(world.keyA)], [CART, fromBilling]] as const) {
      const answer = await client.check(checkWith({ service: 'orders', path: '/orders/42', principal, token }));
      expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'identity_conflict' });
      expect(answer.status?.code).toBe(GRPC_PERMISSION_DENIED);
    }
  });
});

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function svidClaims(): Record<string, unknown> {
  return { sub: CART, aud: ['meshwarden'], iat: now(), exp: now() + 600 };
}

/** Replaces claims in the payload of a signed token, keeping header and signature. */
function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const edited = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...claims };
  return `${header}.${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${signature}`;
}
