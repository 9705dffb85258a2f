import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIdentityResolver, type IdentityOptions, type IdentityResolver } from '../../src/identity/index.js';
import type { Subject } from '../../src/domain/subject.js';
import { urlEncodedPem } from './helpers/pki.js';
import { accessRequest, bearer, type RequestSpec } from './helpers/request.js';
import { signToken } from './helpers/tokens.js';
import { A, buildWorld, IDP, outcome, rejection, WORKLOAD_A, WORKLOAD_B, type World } from './helpers/world.js';

let world: World;
let leafA = '';
let leafViaIntermediate = '';
beforeAll(() => {
  world = buildWorld();
  leafA = world.pki.leaf('res-leaf-a', world.rootA, { uris: [WORKLOAD_A] });
  leafViaIntermediate = world.pki.leaf('res-leaf-int', world.intermediateA, { uris: [WORKLOAD_A] });
  writeFileSync(join(world.dir, 'roots-a.pem'), world.rootA.pem);
});

const svid = (sub = WORKLOAD_A, extra: Record<string, unknown> = {}) =>
  signToken(sub.startsWith('spiffe://b.test') ? world.keyB : world.keyA, { sub, aud: 'meshwarden', exp: world.nowS + 300, ...extra });
const idToken = (extra: Record<string, unknown> = {}) =>
  signToken(world.idpKey, { iss: IDP, sub: 'alice', aud: ['shop-api', 'other'], azp: 'web', exp: world.nowS + 300, scope: 'read', ...extra });
const resolveNow = async (r: IdentityResolver, spec: RequestSpec): Promise<Subject> => r.resolve(accessRequest(spec));

describe('without identity config (foundation behaviour)', () => {
  it('accepts the principal as Envoy reports it', async () => {
    const r = await createIdentityResolver(undefined, { baseDir: '.' });
    expect(r.resolve(accessRequest({ principal: WORKLOAD_B }))).toEqual({
      workload: { trustDomain: 'b.test', path: '/ns/pay/sa/api', uri: WORKLOAD_B },
      workloadEvidence: 'mtls-principal',
    });
    expect(r.ready).toBe(true);
  });

  it('refuses an unparsable principal as invalid_principal', async () => {
    const r = await createIdentityResolver(undefined, { baseDir: '.' });
    expect(() => r.resolve(accessRequest({ principal: 'CN=legacy' }))).toThrow(
      expect.objectContaining({ code: 'ERR_SPIFFE_SCHEME', reason: 'invalid_principal', credential: 'principal' }),
    );
  });

  it('does not examine bearer tokens and answers anonymous without a principal', async () => {
    const r = await createIdentityResolver(undefined, { baseDir: '.' });
    expect(r.resolve(accessRequest({ headers: bearer('not.a.jwt') }))).toEqual({});
  });
});

describe('workload identity from the connection', () => {
  it('accepts a principal of a configured domain without a certificate check by default', async () => {
    const r = await world.resolver();
    expect(r.resolve(accessRequest({ principal: WORKLOAD_A }))).toMatchObject({ workload: { uri: WORKLOAD_A }, workloadEvidence: 'mtls-principal' });
  });

  it('verifies the peer certificate and reports its expiry', async () => {
    const r = await world.resolver({ verifyPeerCertificate: true });
    const subject = await resolveNow(r, { principal: WORKLOAD_A, certificate: urlEncodedPem(leafA) });
    expect(subject.workloadEvidence).toBe('x509-svid');
    expect(subject.expiresAt).toBeGreaterThan(world.nowS + 29 * 86_400);
  });

  it('verifies against a PEM roots file as well as a bundle', async () => {
    const r = await world.resolver({ trustDomains: { [A]: { roots: 'roots-a.pem' } }, verifyPeerCertificate: true });
    expect(await outcome(r, accessRequest({ principal: WORKLOAD_A, certificate: urlEncodedPem(leafA) }))).toBe('OK');
  });

  it('caches a verified certificate: the second check is a hit', async () => {
    const r = await world.resolver({ verifyPeerCertificate: true });
    const request = accessRequest({ principal: WORKLOAD_A, certificate: urlEncodedPem(leafA) });
    r.resolve(request);
    r.resolve(request);
    expect(r.stats.tokenCache).toMatchObject({ hits: 1, misses: 1 });
    expect(r.stats.verifications['x509-svid']).toEqual({ ok: 1, failed: 0 });
  });

  it('reads the nearest XFCC element, with a chain through an intermediate, when trusted', async () => {
    const r = await world.resolver({ trustForwardedClientCert: true, verifyPeerCertificate: true });
    const xfcc = `By=spiffe://a.test/gw;URI=spiffe://a.test/ns/x/sa/far,By=spiffe://a.test/gw;Cert="${urlEncodedPem(leafViaIntermediate)}";Chain="${urlEncodedPem(world.intermediateA.pem)}";URI=${WORKLOAD_A}`;
    const subject = await resolveNow(r, { principal: 'spiffe://a.test/gw', headers: { 'x-forwarded-client-cert': xfcc } });
    expect(subject).toMatchObject({ workload: { uri: WORKLOAD_A }, workloadEvidence: 'xfcc' });
  });

  it('ignores XFCC unless trustForwardedClientCert is on', async () => {
    const r = await world.resolver();
    const subject = await resolveNow(r, { principal: WORKLOAD_B, headers: { 'x-forwarded-client-cert': `URI=${WORKLOAD_A}` } });
    expect(subject.workload?.uri).toBe(WORKLOAD_B);
  });
});

describe('bearer tokens', () => {
  it('turns a JWT-SVID into the workload', async () => {
    const r = await world.resolver();
    expect(await resolveNow(r, { headers: bearer(await svid()) })).toEqual({
      workload: { trustDomain: A, path: '/ns/shop/sa/cart', uri: WORKLOAD_A },
      workloadEvidence: 'jwt-svid',
      expiresAt: world.nowS + 300,
    });
  });

  it('verifies RS256 JWT-SVIDs too', async () => {
    const r = await world.resolver();
    const token = await signToken(world.keyA_rsa, { sub: WORKLOAD_A, aud: ['x', 'meshwarden'], exp: world.nowS + 60 });
    expect(await outcome(r, accessRequest({ headers: bearer(token) }))).toBe('OK');
  });

  it('verifies PS256 JWT-SVIDs with the same RSA key', async () => {
    const r = await world.resolver();
    const pss = await signToken({ ...world.keyA_rsa, alg: 'PS256' }, { sub: WORKLOAD_A, aud: 'meshwarden', exp: world.nowS + 60 });
    expect(await outcome(r, accessRequest({ headers: bearer(pss) }))).toBe('OK');
  });

  it('turns an OIDC token into the end user with principal iss/sub', async () => {
    const r = await world.resolver();
    const subject = await resolveNow(r, { headers: bearer(await idToken()) });
    expect(subject.user).toMatchObject({
      principal: `${IDP}/alice`, issuer: IDP, subject: 'alice', audiences: ['shop-api', 'other'], presenter: 'web',
      claims: expect.objectContaining({ scope: 'read' }), expiresAt: world.nowS + 300,
    });
    expect(Object.isFrozen(subject.user?.claims)).toBe(true);
  });

  it('reads JWT-SVIDs from a configured header, bare or Bearer', async () => {
    const r = await world.resolver({ jwtSvid: { audiences: ['meshwarden'], header: 'X-Workload-JWT' } });
    const subject = await resolveNow(r, { headers: { 'x-workload-jwt': await svid(), ...bearer(await idToken()) } });
    expect(subject).toMatchObject({ workloadEvidence: 'jwt-svid', user: { principal: `${IDP}/alice` } });
  });

  it('refuses a JWT-SVID when only issuers are configured', async () => {
    const r = await world.resolver({ jwtSvid: undefined });
    expect(await outcome(r, accessRequest({ headers: bearer(await svid()) }))).toBe('ERR_JWT_SVID_NOT_CONFIGURED');
  });

  it('leaves other schemes (Basic) to the upstream', async () => {
    const r = await world.resolver();
    expect(r.resolve(accessRequest({ headers: { authorization: 'Basic YWxpY2U6cHc=' } }))).toEqual({});
  });

  it('does not examine bearer tokens when neither issuers nor jwtSvid are configured', async () => {
    const r = await world.resolver({ jwtSvid: undefined, issuers: [] });
    expect(r.resolve(accessRequest({ headers: bearer('garbage') }))).toEqual({});
  });

  it('marks token failures for a Bearer challenge and as invalid_token', async () => {
    const r = await world.resolver();
    const error = await rejection(r, accessRequest({ headers: bearer(await svid(WORKLOAD_A, { exp: world.nowS - 1 })) }));
    expect(error).toMatchObject({ name: 'IdentityError', code: 'ERR_JWT_EXPIRED', reason: 'invalid_token', credential: 'token' });
  });
});

describe('several credentials', () => {
  it.each([
    ['mtls', 'mtls-principal'],
    ['jwt', 'jwt-svid'],
  ] as const)('with precedence %s, an agreeing mTLS principal and JWT-SVID give evidence %s', async (precedence, evidence) => {
    const r = await world.resolver({ precedence });
    const subject = await resolveNow(r, { principal: WORKLOAD_A, headers: bearer(await svid()) });
    expect(subject).toMatchObject({ workload: { uri: WORKLOAD_A }, workloadEvidence: evidence, expiresAt: world.nowS + 300 });
  });

  it('refuses an mTLS principal and a JWT-SVID that name different workloads', async () => {
    const r = await world.resolver({ precedence: 'jwt' });
    const error = await rejection(r, accessRequest({ principal: WORKLOAD_A, headers: bearer(await svid(WORKLOAD_B)) }));
    expect(error).toMatchObject({ code: 'ERR_IDENTITY_CONFLICT', reason: 'identity_conflict' });
  });

  it('combines the workload from mTLS with the end user from a token, earliest expiry first', async () => {
    const r = await world.resolver();
    const subject = await resolveNow(r, { principal: WORKLOAD_B, headers: bearer(await idToken({ exp: world.nowS + 42 })) });
    expect(subject).toMatchObject({ workload: { uri: WORKLOAD_B }, user: { subject: 'alice' }, expiresAt: world.nowS + 42 });
  });
});

describe('the token cache', () => {
  it('answers synchronously without a token, on a miss verified with local keys, and on a hit', async () => {
    const r = await world.resolver();
    expect(r.resolve(accessRequest({ principal: WORKLOAD_A }))).not.toBeInstanceOf(Promise);
    const token = await svid();
    const first = r.resolve(accessRequest({ headers: bearer(token) }));
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toMatchObject({ workload: { uri: WORKLOAD_A }, workloadEvidence: 'jwt-svid' });
    // the same token in a string of its own, as each request decodes it afresh
    const second = r.resolve(accessRequest({ headers: bearer(`${token} `.trimEnd()) }));
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toEqual(first);
    expect(r.stats.tokenCache).toEqual({ hits: 1, misses: 1, entries: 1 });
  });

  it('answers a hit with the same Subject whatever the Bearer spelling', async () => {
    const r = await world.resolver();
    const token = await svid();
    const subject = r.resolve(accessRequest({ headers: bearer(token) }));
    for (const authorization of [`bearer ${token}`, `BEARER   ${token}  `, `Bearer ${token}`]) {
      expect(r.resolve(accessRequest({ headers: { authorization } }))).toEqual(subject);
    }
    expect(r.stats.tokenCache).toEqual({ hits: 3, misses: 1, entries: 1 });
  });

  it('refuses on a hit what the token alone would not settle: a conflicting peer, smuggled tokens', async () => {
    const r = await world.resolver({ precedence: 'jwt' });
    const token = await svid(WORKLOAD_B);
    await r.resolve(accessRequest({ headers: bearer(token) }));
    expect(await outcome(r, accessRequest({ principal: WORKLOAD_A, headers: bearer(token) }))).toBe('ERR_IDENTITY_CONFLICT');
    expect(await outcome(r, accessRequest({ headers: { authorization: `Bearer ${token},Bearer ${token}` } }))).toBe('ERR_BEARER_MALFORMED');
    expect(await outcome(r, accessRequest({ headers: { authorization: `Bearer ${token}x` } }))).not.toBe('OK');
  });

  it.each([
    ['the token expires', 100, 300, 101, 'ERR_JWT_EXPIRED'],
    ['maxTtl ends first', 3600, 60, 61, 'OK'],
  ])('forgets a token when %s', async (_name, lifetime, maxTtlSeconds, laterSeconds, code) => {
    let now = world.nowMs;
    const r = await world.resolver({ tokenCache: { max: 10, maxTtlSeconds } }, { now: () => now });
    const request = accessRequest({ headers: bearer(await svid(WORKLOAD_A, { exp: world.nowS + lifetime })) });
    await r.resolve(request);
    now += (laterSeconds - 2) * 1000;
    expect(r.resolve(request)).not.toBeInstanceOf(Promise);
    now += 2000;
    expect(await outcome(r, request)).toBe(code);
    expect(r.stats.tokenCache.misses).toBe(2);
  });

  it('never caches a failure', async () => {
    const r = await world.resolver();
    const request = accessRequest({ headers: bearer(await svid(WORKLOAD_A, { aud: 'nope' })) });
    await outcome(r, request);
    await outcome(r, request);
    expect(r.stats.tokenCache).toEqual({ hits: 0, misses: 2, entries: 0 });
    expect(r.stats.verifications['jwt-svid']).toEqual({ ok: 0, failed: 2 });
    expect(r.stats.rejections.ERR_JWT_AUD_MISMATCH).toBe(2);
  });

  it('is bounded by its entry count', async () => {
    const r = await world.resolver({ tokenCache: { max: 2, maxTtlSeconds: 60 } });
    for (const jti of ['1', '2', '3']) await r.resolve(accessRequest({ headers: bearer(await svid(WORKLOAD_A, { jti })) }));
    expect(r.stats.tokenCache.entries).toBe(2);
  });
});

describe('claims verified by Envoy jwt_authn (metadata_context)', () => {
  const metadata = (payload: Record<string, unknown>) => ({ 'envoy.filters.http.jwt_authn': { my_payload: payload } });
  const payload = () => ({ iss: IDP, sub: 'bob', aud: 'shop-api', exp: world.nowS + 60 });

  it('reads the end user from metadata instead of verifying the token again', async () => {
    const r = await world.resolver({ jwtAuthnMetadata: { enabled: true, payloadKey: 'my_payload' } });
    const subject = await resolveNow(r, { filterMetadata: metadata(payload()), headers: bearer(await idToken()) });
    expect(subject.user?.principal).toBe(`${IDP}/bob`);
    expect(r.stats.verifications.oidc).toEqual({ ok: 0, failed: 0 });
  });

  it.each([
    ['an unconfigured issuer', { iss: 'https://other' }, 'ERR_JWT_ISSUER_UNKNOWN'],
    ['another audience', { aud: 'billing' }, 'ERR_JWT_AUD_MISMATCH'],
    ['an expiry in the past', { exp: 1 }, 'ERR_JWT_EXPIRED'],
    ['no sub', { sub: undefined }, 'ERR_JWT_SUB_MISSING'],
  ])('refuses a payload with %s', async (_name, change, code) => {
    const r = await world.resolver({ jwtAuthnMetadata: { enabled: true } });
    expect(await outcome(r, accessRequest({ filterMetadata: metadata({ ...payload(), ...change }) }))).toBe(code);
  });

  it('ignores metadata unless enabled', async () => {
    const r = await world.resolver();
    expect(r.resolve(accessRequest({ filterMetadata: metadata(payload()) }))).toEqual({});
  });
});

describe('the memo of parsed principals', () => {
  const WORKLOAD_C = 'spiffe://b.test/ns/pay/sa/batch';
  const subjectOf = (r: IdentityResolver, principal: string) => r.resolve(accessRequest({ principal })) as Subject;

  it('keeps the principals in use and forgets the least recently used one first (foundation)', async () => {
    const r = await createIdentityResolver(undefined, { baseDir: '.', principalMemoSize: 2 });
    const a = subjectOf(r, WORKLOAD_A);
    const b = subjectOf(r, WORKLOAD_B);
    subjectOf(r, WORKLOAD_A);
    subjectOf(r, WORKLOAD_C); // full: B, the least recently used, goes
    expect(subjectOf(r, WORKLOAD_A)).toBe(a);
    expect(subjectOf(r, WORKLOAD_B)).not.toBe(b);
    expect(subjectOf(r, WORKLOAD_B)).toEqual(b);
  });

  it('is sized by whoever builds the resolver, with identity configured too', async () => {
    const r = await world.resolver({}, { principalMemoSize: 1 });
    const first = subjectOf(r, WORKLOAD_A).workload;
    expect(subjectOf(r, WORKLOAD_A).workload).toBe(first);
    subjectOf(r, WORKLOAD_B);
    expect(subjectOf(r, WORKLOAD_A).workload).not.toBe(first);
  });

  it('refuses an empty memo at start-up', async () => {
    await expect(createIdentityResolver(undefined, { baseDir: '.', principalMemoSize: 0 })).rejects.toThrow(TypeError);
  });
});

describe('options', () => {
  const base: IdentityOptions = { trustDomains: {} };
  it.each<[string, unknown]>([
    ['a bad trust domain name', { trustDomains: { 'Bad.Domain': { bundle: 'x' } } }],
    ['both bundle and roots', { trustDomains: { [A]: { bundle: 'x', roots: 'y' } } }],
    ['neither bundle nor roots', { trustDomains: { [A]: {} } }],
    ['an empty audience list', { ...base, jwtSvid: { audiences: [] } }],
    ['an unknown precedence', { ...base, precedence: 'either' }],
    ['an issuer with two key sources', { ...base, issuers: [{ issuer: IDP, audiences: ['a'], jwksUri: 'https://x', jwksFile: 'y' }] }],
    ['an issuer listed twice', { ...base, issuers: [{ issuer: IDP, audiences: ['a'], jwksFile: 'y' }, { issuer: IDP, audiences: ['a'], jwksFile: 'y' }] }],
    ['a jwksUri that is not http(s)', { ...base, issuers: [{ issuer: IDP, audiences: ['a'], jwksUri: 'file:///etc/passwd' }] }],
    ['a negative cooldown', { ...base, issuers: [{ issuer: IDP, audiences: ['a'], jwksFile: 'y', cooldownMs: -1 }] }],
    ['an unbounded token cache', { ...base, tokenCache: { max: 0, maxTtlSeconds: 60 } }],
    ['a non-boolean switch', { ...base, verifyPeerCertificate: 'yes' }],
  ])('throws TypeError at start-up for %s', async (_name, options) => {
    await expect(createIdentityResolver(options as IdentityOptions, { baseDir: '.', watch: false })).rejects.toThrow(TypeError);
  });
});
