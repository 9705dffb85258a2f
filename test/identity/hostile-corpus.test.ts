/**
 * The hostile corpus: every credential here is an attack or a mistake, and each must be
 * refused with its own code. Keys and certificates are made fresh by the test (openssl, node).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IdentityOptions } from '../../src/identity/index.js';
import { urlEncodedPem } from './helpers/pki.js';
import { accessRequest, bearer, type RequestSpec } from './helpers/request.js';
import { forgeHs256WithPublicKey, forgeSigned, makeKey, publicJwk, rawPart, signToken, unsigned } from './helpers/tokens.js';
import { buildWorld, IDP, outcome, WORKLOAD_A, WORKLOAD_B, type World } from './helpers/world.js';

interface Case {
  readonly name: string;
  readonly code: string;
  readonly request: (w: World) => RequestSpec | Promise<RequestSpec>;
  /** Clock offset in days from the world's now. */
  readonly days?: number;
}

const STRICT: Partial<IdentityOptions> = { verifyPeerCertificate: true, trustForwardedClientCert: true };
const attacker = makeKey('evil');
let jkuHits = 0;
let jkuServer: Server;
let jkuUrl = '';
let world: World;
let goodLeafA = '';

const svidClaims = (w: World, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: WORKLOAD_A, aud: 'meshwarden', exp: w.nowS + 300, ...extra,
});
const oidcClaims = (w: World, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: IDP, sub: 'alice', aud: 'shop-api', exp: w.nowS + 300, ...extra,
});
const token = (t: string): RequestSpec => ({ headers: bearer(t) });
const withCert = (pem: string, principal = WORKLOAD_A): RequestSpec => ({ principal, certificate: urlEncodedPem(pem) });
const leaf = (w: World, name: string, spec: Parameters<World['pki']['leaf']>[2], issuer = w.rootA): RequestSpec =>
  withCert(w.pki.leaf(name, issuer, spec));

const TOKEN_CASES: Case[] = [
  { name: 'alg none, unsigned', code: 'ERR_JWT_ALG_NOT_ALLOWED', request: (w) => token(unsigned({ alg: 'none' }, svidClaims(w))) },
  { name: 'alg "None" in another case', code: 'ERR_JWT_ALG_NOT_ALLOWED', request: (w) => token(unsigned({ alg: 'None', kid: 'a1' }, svidClaims(w))) },
  { name: 'HS256 keyed with the public key bytes', code: 'ERR_JWT_ALG_NOT_ALLOWED', request: (w) => token(forgeHs256WithPublicKey(w.keyA, svidClaims(w))) },
  { name: 'alg missing from the header', code: 'ERR_JWT_ALG_NOT_ALLOWED', request: (w) => token(forgeSigned(w.keyA, { kid: 'a1' }, svidClaims(w))) },
  { name: 'EdDSA, which JWT-SVIDs do not allow', code: 'ERR_JWT_ALG_NOT_ALLOWED', request: (w) => token(forgeSigned(w.keyA, { alg: 'EdDSA', kid: 'a1' }, svidClaims(w))) },
  { name: 'unknown kid', code: 'ERR_JWT_KEY_NOT_FOUND', request: async (w) => token(await signToken(attacker, svidClaims(w))) },
  { name: 'no kid at all', code: 'ERR_JWT_KID_MISSING', request: (w) => token(forgeSigned(w.keyA, { alg: 'ES256' }, svidClaims(w))) },
  { name: 'jku pointing at the attacker’s key set (never fetched)', code: 'ERR_JWT_KEY_NOT_FOUND', request: async (w) => token(await signToken(attacker, svidClaims(w), { jku: jkuUrl })) },
  { name: 'x5u pointing at the attacker’s certificate (never fetched)', code: 'ERR_JWT_KEY_NOT_FOUND', request: async (w) => token(await signToken(attacker, svidClaims(w), { x5u: `${jkuUrl}/cert.pem` })) },
  { name: 'embedded jwk header with the attacker’s key', code: 'ERR_JWT_KEY_NOT_FOUND', request: async (w) => token(await signToken(attacker, svidClaims(w), { jwk: publicJwk(attacker) })) },
  { name: 'embedded jwk header reusing a trusted kid', code: 'ERR_JWT_SIGNATURE', request: (w) => token(forgeSigned(attacker, { alg: 'ES256', kid: 'a1', jwk: publicJwk(attacker) }, svidClaims(w))) },
  { name: 'unknown crit extension', code: 'ERR_JWT_CRIT_UNSUPPORTED', request: (w) => token(forgeSigned(w.keyA, { alg: 'ES256', kid: 'a1', crit: ['exp-ext'], 'exp-ext': 1 }, svidClaims(w))) },
  { name: 'crit b64=false (unencoded payload)', code: 'ERR_JWT_CRIT_UNSUPPORTED', request: (w) => token(forgeSigned(w.keyA, { alg: 'ES256', kid: 'a1', crit: ['b64'], b64: false }, svidClaims(w))) },
  { name: 'JWE (five parts)', code: 'ERR_JWT_ENCRYPTED', request: () => token(`${rawPart({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`) },
  { name: 'two parts', code: 'ERR_JWT_MALFORMED', request: (w) => token(`${rawPart({ alg: 'ES256' })}.${rawPart(svidClaims(w))}`) },
  { name: 'expired', code: 'ERR_JWT_EXPIRED', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { exp: w.nowS - 1 }))) },
  { name: 'nbf in the future', code: 'ERR_JWT_NOT_YET_VALID', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { nbf: w.nowS + 60 }))) },
  { name: 'missing exp', code: 'ERR_JWT_EXP_MISSING', request: async (w) => token(await signToken(w.keyA, { sub: WORKLOAD_A, aud: 'meshwarden' })) },
  { name: 'exp as a string', code: 'ERR_JWT_CLAIM_INVALID', request: (w) => token(forgeSigned(w.keyA, { alg: 'ES256', kid: 'a1' }, svidClaims(w, { exp: String(w.nowS + 300) }))) },
  { name: 'wrong aud', code: 'ERR_JWT_AUD_MISMATCH', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { aud: 'someone-else' }))) },
  { name: 'missing aud', code: 'ERR_JWT_AUD_MISSING', request: async (w) => token(await signToken(w.keyA, { sub: WORKLOAD_A, exp: w.nowS + 300 })) },
  { name: 'OIDC token for another audience', code: 'ERR_JWT_AUD_MISMATCH', request: async (w) => token(await signToken(w.idpKey, oidcClaims(w, { aud: 'billing' }))) },
  { name: 'wrong iss', code: 'ERR_JWT_ISSUER_UNKNOWN', request: async (w) => token(await signToken(w.idpKey, oidcClaims(w, { iss: 'https://evil.test' }))) },
  { name: 'iss differing only by a trailing slash', code: 'ERR_JWT_ISSUER_UNKNOWN', request: async (w) => token(await signToken(w.idpKey, oidcClaims(w, { iss: `${IDP}/` }))) },
  { name: 'sub not a SPIFFE ID, no iss', code: 'ERR_JWT_SUB_NOT_SPIFFE', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { sub: 'cart' }))) },
  { name: 'sub a SPIFFE ID with a dot segment', code: 'ERR_JWT_SUB_NOT_SPIFFE', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { sub: 'spiffe://a.test/ns/../sa/x' }))) },
  { name: 'neither iss nor sub', code: 'ERR_JWT_SUB_MISSING', request: async (w) => token(await signToken(w.keyA, { aud: 'meshwarden', exp: w.nowS + 300 })) },
  { name: 'sub of an unconfigured trust domain', code: 'ERR_TRUST_DOMAIN_UNTRUSTED', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { sub: 'spiffe://c.test/x' }))) },
  { name: 'domain B token signed with domain A’s key and kid', code: 'ERR_JWT_KEY_NOT_FOUND', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { sub: WORKLOAD_B }))) },
  { name: 'domain B token signed with domain A’s key, B’s kid', code: 'ERR_JWT_SIGNATURE', request: (w) => token(forgeSigned(w.keyA, { alg: 'ES256', kid: 'b1' }, svidClaims(w, { sub: WORKLOAD_B }))) },
  { name: 'kid of a key marked x509-svid', code: 'ERR_JWT_KEY_USE', request: (w) => token(forgeSigned(w.keyA, { alg: 'ES256', kid: w.x509Kid }, svidClaims(w))) },
  { name: 'ES256 header naming an RSA key', code: 'ERR_JWT_ALG_KEY_MISMATCH', request: (w) => token(forgeSigned(w.keyA, { alg: 'ES256', kid: 'a2' }, svidClaims(w))) },
  { name: 'payload altered after signing', code: 'ERR_JWT_SIGNATURE', request: async (w) => {
    const [h, , s] = (await signToken(w.keyA, svidClaims(w))).split('.');
    return token(`${h}.${rawPart(svidClaims(w, { sub: 'spiffe://a.test/ns/admin/sa/root' }))}.${s}`);
  } },
  { name: 'oversize token', code: 'ERR_JWT_TOO_LARGE', request: async (w) => token(await signToken(w.keyA, svidClaims(w, { pad: 'x'.repeat(20_000) }))) },
  { name: 'header that is not base64url', code: 'ERR_JWT_BASE64', request: (w) => token(`eyJ+/=.${rawPart(svidClaims(w))}.c2ln`) },
  { name: 'payload that is not JSON', code: 'ERR_JWT_JSON', request: () => token(`${rawPart({ alg: 'ES256', kid: 'a1' })}.${Buffer.from('{"sub":').toString('base64url')}.c2ln`) },
  { name: 'payload a JSON array', code: 'ERR_JWT_PAYLOAD_NOT_OBJECT', request: () => token(`${rawPart({ alg: 'ES256', kid: 'a1' })}.${rawPart([1, 2])}.c2ln`) },
  { name: 'payload JSON null', code: 'ERR_JWT_PAYLOAD_NOT_OBJECT', request: () => token(`${rawPart({ alg: 'ES256', kid: 'a1' })}.${rawPart(null)}.c2ln`) },
  { name: 'header a JSON string', code: 'ERR_JWT_HEADER_NOT_OBJECT', request: (w) => token(`${rawPart('ES256')}.${rawPart(svidClaims(w))}.c2ln`) },
  { name: 'empty signature with a real alg', code: 'ERR_JWT_BASE64', request: (w) => token(`${rawPart({ alg: 'ES256', kid: 'a1' })}.${rawPart(svidClaims(w))}.`) },
  { name: 'JWT-SVID with typ secevent+jwt', code: 'ERR_JWT_TYP', request: async (w) => token(await signToken(w.keyA, svidClaims(w), { typ: 'secevent+jwt' })) },
  { name: 'OIDC logout token typ', code: 'ERR_JWT_TYP', request: async (w) => token(await signToken(w.idpKey, oidcClaims(w), { typ: 'logout+jwt' })) },
  { name: 'OIDC token signed by another key under the issuer’s kid', code: 'ERR_JWT_SIGNATURE', request: (w) => token(forgeSigned(makeKey('o1', 'RS256'), { alg: 'RS256', kid: 'o1' }, oidcClaims(w))) },
  { name: 'OIDC token expired', code: 'ERR_JWT_EXPIRED', request: async (w) => token(await signToken(w.idpKey, oidcClaims(w, { exp: w.nowS - 5 }))) },
  { name: 'OIDC token without sub', code: 'ERR_JWT_SUB_MISSING', request: async (w) => token(await signToken(w.idpKey, { iss: IDP, aud: 'shop-api', exp: w.nowS + 60 })) },
  { name: 'two Authorization headers joined by Envoy', code: 'ERR_BEARER_MALFORMED', request: async (w) => ({ headers: { authorization: `Bearer ${await signToken(w.keyA, svidClaims(w))},Bearer x.y.z` } }) },
  { name: 'JWT-SVID naming another workload than the mTLS peer', code: 'ERR_IDENTITY_CONFLICT', request: async (w) => ({ ...withCert(goodLeafA), headers: bearer(await signToken(w.keyB, svidClaims(w, { sub: WORKLOAD_B }))) }) },
];

const PEER_CASES: Case[] = [
  { name: 'principal without spiffe:// (Istio short form)', code: 'ERR_SPIFFE_SCHEME', request: () => ({ principal: 'a.test/ns/shop/sa/cart' }) },
  { name: 'principal with a port', code: 'ERR_SPIFFE_PORT', request: () => ({ principal: 'spiffe://a.test:8443/ns/shop' }) },
  { name: 'principal with user info', code: 'ERR_SPIFFE_USER_INFO', request: () => ({ principal: 'spiffe://admin@a.test/ns/shop' }) },
  { name: 'principal percent-encoded', code: 'ERR_SPIFFE_PERCENT_ENCODED', request: () => ({ principal: 'spiffe://a.test/ns/sh%6Fp' }) },
  { name: 'principal of an unconfigured trust domain', code: 'ERR_TRUST_DOMAIN_UNTRUSTED', request: () => ({ principal: 'spiffe://c.test/ns/x' }) },
  { name: 'principal without the peer certificate', code: 'ERR_X509_MISSING', request: () => ({ principal: WORKLOAD_A }) },
  { name: 'leaf with two URI SANs', code: 'ERR_X509_URI_SAN_COUNT', request: (w) => leaf(w, 'two-sans', { uris: [WORKLOAD_A, 'spiffe://a.test/ns/admin/sa/root'] }) },
  { name: 'leaf without URI SAN', code: 'ERR_X509_URI_SAN_COUNT', request: (w) => leaf(w, 'no-san', {}) },
  { name: 'leaf with cA=true', code: 'ERR_X509_LEAF_IS_CA', request: (w) => leaf(w, 'leaf-ca', { uris: [WORKLOAD_A], ca: true, keyUsage: 'digitalSignature' }) },
  { name: 'leaf with keyCertSign', code: 'ERR_X509_KEY_USAGE', request: (w) => leaf(w, 'leaf-certsign', { uris: [WORKLOAD_A], keyUsage: 'digitalSignature,keyCertSign' }) },
  { name: 'leaf with cRLSign', code: 'ERR_X509_KEY_USAGE', request: (w) => leaf(w, 'leaf-crlsign', { uris: [WORKLOAD_A], keyUsage: 'digitalSignature,cRLSign' }) },
  { name: 'leaf without digitalSignature', code: 'ERR_X509_KEY_USAGE', request: (w) => leaf(w, 'leaf-kenc', { uris: [WORKLOAD_A], keyUsage: 'keyEncipherment' }) },
  { name: 'leaf with an unknown critical extension', code: 'ERR_X509_CRITICAL_EXTENSION', request: (w) => leaf(w, 'leaf-crit', { uris: [WORKLOAD_A], extra: ['1.2.3.4=critical,ASN1:UTF8String:x'] }) },
  { name: 'leaf expired (clock 60 days on)', code: 'ERR_X509_EXPIRED', days: 60, request: () => withCert(goodLeafA) },
  { name: 'leaf not yet valid (clock 2 days back)', code: 'ERR_X509_NOT_YET_VALID', days: -2, request: () => withCert(goodLeafA) },
  { name: 'leaf chained to another domain’s root', code: 'ERR_X509_UNTRUSTED_CHAIN', request: (w) => leaf(w, 'a-by-b', { uris: [WORKLOAD_A] }, w.rootB) },
  { name: 'leaf under an intermediate that is not sent', code: 'ERR_X509_UNTRUSTED_CHAIN', request: (w) => leaf(w, 'via-int', { uris: [WORKLOAD_A] }, w.intermediateA) },
  { name: 'principal differs from the certificate SAN', code: 'ERR_X509_URI_SAN_MISMATCH', request: () => withCert(goodLeafA, 'spiffe://a.test/ns/shop/sa/admin') },
  { name: 'certificate that is not PEM', code: 'ERR_X509_MALFORMED', request: () => ({ principal: WORKLOAD_A, certificate: '-----BEGIN%20CERTIFICATE-----%0AAAAA%0A-----END%20CERTIFICATE-----' }) },
  { name: 'certificate with broken URL encoding', code: 'ERR_X509_MALFORMED', request: () => ({ principal: WORKLOAD_A, certificate: '%E0%A4%A' }) },
  { name: 'XFCC with an unterminated quote', code: 'ERR_XFCC_MALFORMED', request: () => ({ headers: { 'x-forwarded-client-cert': 'By=spiffe://a.test/gw;URI="spiffe://a.test/x' } }) },
  { name: 'XFCC with two URIs in the nearest element', code: 'ERR_XFCC_URI_COUNT', request: () => ({ headers: { 'x-forwarded-client-cert': `URI=${WORKLOAD_A};URI=spiffe://a.test/ns/admin` } }) },
  { name: 'XFCC whose Cert names another workload', code: 'ERR_X509_URI_SAN_MISMATCH', request: () => ({ headers: { 'x-forwarded-client-cert': `Cert="${urlEncodedPem(goodLeafA)}";URI=spiffe://a.test/ns/shop/sa/admin` } }) },
];

beforeAll(async () => {
  world = buildWorld();
  goodLeafA = world.pki.leaf('good-a', world.rootA, { uris: [WORKLOAD_A] });
  jkuServer = createServer((_req, res) => {
    jkuHits++;
    res.end(JSON.stringify({ keys: [publicJwk(attacker, { use: 'jwt-svid' })] }));
  });
  await new Promise<void>((resolve) => jkuServer.listen(0, '127.0.0.1', resolve));
  jkuUrl = `http://127.0.0.1:${(jkuServer.address() as AddressInfo).port}/jwks`;
});

afterAll(() => {
  jkuServer.close();
});

describe('the hostile corpus', () => {
  it('holds at least forty credentials', () => {
    expect(TOKEN_CASES.length + PEER_CASES.length).toBeGreaterThanOrEqual(40);
  });

  const fetchSpy = vi.fn(async () => new Response('{}'));
  it.each([...TOKEN_CASES, ...PEER_CASES])('refuses $name with $code', async (c) => {
    const resolver = await world.resolver(STRICT, { now: () => world.nowMs + (c.days ?? 0) * 86_400_000, fetch: fetchSpy });
    expect(await outcome(resolver, accessRequest(await c.request(world)))).toBe(c.code);
    resolver.close();
  });

  it('never fetched a key from a token header (jku, x5u, jwk)', () => {
    expect(jkuHits).toBe(0);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('accepts the honest versions of the same credentials, so each refusal is the attack', async () => {
    const resolver = await world.resolver(STRICT);
    const svid = await signToken(world.keyA, svidClaims(world));
    const user = await signToken(world.idpKey, oidcClaims(world));
    expect(await outcome(resolver, accessRequest({ headers: bearer(svid) }))).toBe('OK');
    expect(await outcome(resolver, accessRequest({ headers: bearer(user) }))).toBe('OK');
    expect(await outcome(resolver, accessRequest(withCert(goodLeafA)))).toBe('OK');
  });

  it('rejects an oversize token before any verification or cache work', async () => {
    const resolver = await world.resolver(STRICT);
    const big = await signToken(world.keyA, svidClaims(world, { pad: 'x'.repeat(20_000) }));
    expect(() => resolver.resolve(accessRequest({ headers: bearer(big) }))).toThrow(expect.objectContaining({ code: 'ERR_JWT_TOO_LARGE' }));
    expect(resolver.stats.tokenCache.misses).toBe(0);
    expect(resolver.stats.verifications['jwt-svid']).toEqual({ ok: 0, failed: 0 });
  });
});
