/**
 * Federation by SPIFFE bundle endpoint (profile https_web), against a real HTTPS server on
 * 127.0.0.1 whose certificate a test CA issued: b.test's bundle comes from the endpoint, a.test's
 * from a file. Polls are driven by `resolver.reload()` (a poll now, its outcome awaited), except
 * where the refresh hint itself is under test.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IdentityOptions, IdentityResolver, ReloadErrorEvent, ReloadEvent } from '../../src/identity/index.js';
import type { BundleEndpointTiming } from '../../src/identity/index.js';
import { accessRequest, bearer } from './helpers/request.js';
import { BundleEndpointServer, type Answer } from './helpers/bundle-endpoint-server.js';
import { urlEncodedPem, x509BundleKey, type Issuer } from './helpers/pki.js';
import { makeKey, publicJwk, signToken, type SigningKey } from './helpers/tokens.js';
import { buildWorld, outcome, A, B, WORKLOAD_B, type World } from './helpers/world.js';

/** Scheduled polls far off: only reload() polls, so each test decides when. */
const BY_HAND: BundleEndpointTiming = { minRefreshMs: 3_600_000, maxRefreshMs: 3_600_000, firstRetryMs: 3_600_000 };

let world: World;
let serverCa: Issuer;
const open: { resolver?: IdentityResolver; server?: BundleEndpointServer }[] = [];

beforeAll(() => {
  world = buildWorld();
  serverCa = world.pki.root('endpoint-ca', 'endpoint-ca.test');
});

afterEach(async () => {
  for (const { resolver, server } of open.splice(0)) {
    resolver?.close();
    await server?.stop();
  }
});

interface Federated {
  readonly server: BundleEndpointServer;
  readonly resolver: IdentityResolver;
  readonly reloads: ReloadEvent[];
  readonly errors: ReloadErrorEvent[];
}

type EndpointOptions = NonNullable<IdentityOptions['trustDomains'][string]['bundleEndpoint']>;

/** A resolver trusting b.test through the endpoint, the endpoint already answering `first`. */
async function federated(first: Answer, endpoint: Partial<EndpointOptions> = {}, timing = BY_HAND): Promise<Federated> {
  const server = new BundleEndpointServer(world.pki, serverCa, `endpoint-${open.length}-${Date.now()}`);
  await server.start();
  server.answer(first);
  open.push({ server });
  const bundleEndpoint = { url: server.url, profile: 'https_web' as const, caFile: serverCa.certPath, ...endpoint };
  const trustDomains = { [A]: { bundle: 'a.json' }, [B]: { bundleEndpoint } };
  const resolver = await world.resolver({ trustDomains }, { bundleEndpointTiming: timing });
  open.push({ resolver });
  const reloads: ReloadEvent[] = [];
  const errors: ReloadErrorEvent[] = [];
  resolver.on('reload', (event) => reloads.push(event));
  resolver.on('error', (event) => errors.push(event));
  return { server, resolver, reloads, errors };
}

/** The next reload event, bounded: a rotation that never comes fails the test, not the run. */
function nextReload(resolver: IdentityResolver, withinMs = 5000): Promise<ReloadEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reload within ${withinMs} ms`)), withinMs);
    const off = resolver.on('reload', (event) => {
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

const bundleB = (sequence: number | undefined, keys: SigningKey[], extra: Record<string, unknown> = {}) => ({
  ...(sequence === undefined ? {} : { spiffe_sequence: sequence }),
  keys: [x509BundleKey(world.rootB.pem), ...keys.map((key) => publicJwk(key, { use: 'jwt-svid' }))],
  ...extra,
});
const good = (sequence = 1, keys = [world.keyB]): Answer => ({ body: JSON.stringify(bundleB(sequence, keys)) });
const tokenOf = async (key: SigningKey, sub = WORKLOAD_B) =>
  accessRequest({ headers: bearer(await signToken(key, { sub, aud: 'meshwarden', exp: world.nowS + 300 })) });

describe('a trust domain fed by a bundle endpoint', () => {
  it('is not ready until the first good bundle, then verifies JWT-SVIDs and X.509-SVIDs with it', async () => {
    const { server, resolver } = await federated({ status: 503, body: 'starting' });
    expect(resolver.ready).toBe(false);
    expect(resolver.failures).toEqual([
      expect.objectContaining({ name: B, code: 'ERR_BUNDLE_FETCH', keptLastGood: false, reason: `bundle endpoint ${server.url} of ${B}: answered HTTP 503` }),
    ]);
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('ERR_TRUST_DOMAIN_UNAVAILABLE');
    server.answer(good());
    await resolver.reload();
    expect(resolver.ready).toBe(true);
    expect(resolver.failures).toEqual([]);
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('OK');
    const leaf = world.pki.leaf('federated-leaf-b', world.rootB, { uris: [WORKLOAD_B] });
    expect(await outcome(resolver, accessRequest({ principal: WORKLOAD_B, certificate: urlEncodedPem(leaf) }))).toBe('OK');
    expect(resolver.stats.bundleEndpoints[B]).toMatchObject({ sequence: 1, lastGoodAt: world.nowMs });
  });

  it('picks up a rotation when the bundle\'s refresh hint comes due, and not before', async () => {
    const next = makeKey('b-next');
    const first = { body: JSON.stringify(bundleB(1, [world.keyB], { spiffe_refresh_hint: 1 })) };
    const { server, resolver } = await federated(first, {}, { minRefreshMs: 0, maxRefreshMs: 60_000, firstRetryMs: 60_000 });
    const startedAt = performance.now();
    const oldToken = await tokenOf(world.keyB);
    expect(await outcome(resolver, oldToken)).toBe('OK');
    const rotated = nextReload(resolver);
    server.answer(good(2, [next]));
    expect(await rotated).toMatchObject({ name: B, sequence: 2 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(950);
    expect(server.requests).toBe(2);
    expect(await outcome(resolver, await tokenOf(next))).toBe('OK');
    expect(await outcome(resolver, oldToken)).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it('keeps the last good bundle while the endpoint is down, says so, and recovers when it is back', async () => {
    const { server, resolver, errors, reloads } = await federated(good());
    const url = server.url;
    const port = Number(new URL(url).port);
    await server.stop();
    await resolver.reload();
    expect(errors).toEqual([expect.objectContaining({ name: B, path: url, code: 'ERR_BUNDLE_FETCH', keptLastGood: true })]);
    expect(errors[0]!.reason).toMatch(new RegExp(`^bundle endpoint ${url} of ${B}: .*ECONNREFUSED`));
    expect(resolver.stats.bundleEndpoints[B]!.fetches).toMatchObject({ applied: 1, error: 1 });
    expect(resolver.stats.keyFiles.files['trust-domain']).toEqual({ loaded: 1, stale: 1, unavailable: 0 });
    expect(resolver.ready).toBe(true);
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('OK');
    await server.start(port);
    await resolver.reload();
    expect(resolver.failures).toEqual([]);
    expect(reloads).toContainEqual(expect.objectContaining({ name: B, path: server.url, sequence: 1 }));
    expect(resolver.stats.bundleEndpoints[B]!.fetches).toMatchObject({ applied: 1, unchanged: 1, error: 1 });
  });

  it('tells an outage once per cause while scheduled polls keep retrying, and counts every poll', async () => {
    const { server, resolver, errors } = await federated(good(), {}, { minRefreshMs: 0, maxRefreshMs: 200, firstRetryMs: 10 });
    await server.stop();
    await vi.waitUntil(() => resolver.stats.bundleEndpoints[B]!.fetches.error >= 4, { timeout: 5000, interval: 10 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_BUNDLE_FETCH', keptLastGood: true });
  });

  it('polls no more often than the floor, whatever the hint says', async () => {
    const first = { body: JSON.stringify(bundleB(1, [world.keyB], { spiffe_refresh_hint: 0 })) };
    const { server } = await federated(first, {}, { minRefreshMs: 300, maxRefreshMs: 60_000, firstRetryMs: 60_000 });
    const startedAt = performance.now();
    await vi.waitUntil(() => server.requests === 2, { timeout: 5000, interval: 5 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(250);
  });

  it('refuses a bundle with an older spiffe_sequence than the one in service, which keeps verifying', async () => {
    const { server, resolver, errors } = await federated(good(5));
    const rolledBack = makeKey('b-rolled-back');
    server.answer(good(4, [rolledBack]));
    await resolver.reload();
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_BUNDLE_SEQUENCE', keptLastGood: true })]);
    expect(errors[0]!.reason).toContain('spiffe_sequence 4, older than 5 already taken');
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('OK');
    expect(await outcome(resolver, await tokenOf(rolledBack))).toBe('ERR_JWT_KEY_NOT_FOUND');
    expect(resolver.stats.bundleEndpoints[B]).toMatchObject({ sequence: 5, fetches: expect.objectContaining({ sequence_backwards: 1 }) });
  });

  it('takes a bundle without spiffe_sequence as the latest (SPIFFE Federation 4.2), but an older sequence stays refused after it', async () => {
    const { server, resolver, errors } = await federated(good(5));
    const unsequenced = makeKey('b-unsequenced');
    server.answer({ body: JSON.stringify(bundleB(undefined, [unsequenced])) });
    await resolver.reload();
    expect(await outcome(resolver, await tokenOf(unsequenced))).toBe('OK');
    server.answer(good(3, [world.keyB]));
    await resolver.reload();
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_BUNDLE_SEQUENCE' })]);
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it('accepts a newer sequence and an equal one', async () => {
    const { server, resolver } = await federated(good(5));
    const next = makeKey('b-6');
    server.answer(good(6, [next]));
    await resolver.reload();
    server.answer(good(6, [next, world.keyB]));
    await resolver.reload();
    expect(resolver.stats.bundleEndpoints[B]).toMatchObject({ sequence: 6, fetches: expect.objectContaining({ applied: 3 }) });
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('OK');
  });

  const MAX_BYTES = 4096;
  const padded = () => JSON.stringify({ spiffe_sequence: 2, keys: [], padding: 'x'.repeat(MAX_BYTES) });
  const jwk = () => publicJwk(makeKey('hostile'), { use: 'jwt-svid' });
  it.each<[string, () => Answer, string, string]>([
    ['an answer longer than maxBytes (Content-Length)', () => ({ body: padded() }), 'too_large', 'ERR_BUNDLE_FETCH'],
    ['an answer longer than maxBytes (chunked, no length)', () => ({ body: padded(), headers: { 'transfer-encoding': 'chunked' } }), 'too_large', 'ERR_BUNDLE_FETCH'],
    ['HTTP 500', () => ({ status: 500, body: '{}' }), 'http_error', 'ERR_BUNDLE_FETCH'],
    ['a redirect to plain http', () => ({ status: 302, body: '', headers: { location: 'http://127.0.0.1:1/elsewhere' } }), 'http_error', 'ERR_BUNDLE_FETCH'],
    ['a redirect to a URL with userinfo', () => ({ status: 307, body: '', headers: { location: 'https://user:pw@127.0.0.1:1/b' } }), 'http_error', 'ERR_BUNDLE_FETCH'],
    ['a redirect to itself, forever', () => ({ status: 302, body: '', headers: { location: '/bundle' } }), 'http_error', 'ERR_BUNDLE_FETCH'],
    ['bytes that are not JSON', () => ({ body: '<html>maintenance</html>' }), 'invalid', 'ERR_BUNDLE_JSON'],
    ['JSON that is not a JWK Set', () => ({ body: '{"keys":3}' }), 'invalid', 'ERR_BUNDLE_INVALID'],
    ['a bundle with no usable key', () => ({ body: JSON.stringify({ spiffe_sequence: 2, keys: [{ ...jwk(), use: 'enc' }] }) }), 'invalid', 'ERR_BUNDLE_INVALID'],
    ['a jwt-svid key without kid', () => ({ body: JSON.stringify({ spiffe_sequence: 2, keys: [x509BundleKey(world.rootB.pem), { ...jwk(), kid: undefined }] }) }), 'invalid', 'ERR_BUNDLE_KEY'],
    ['a jwt-svid key holding a private key', () => ({ body: JSON.stringify({ keys: [{ ...makeKey('p').privateKey.export({ format: 'jwk' }), kid: 'p', use: 'jwt-svid' }] }) }), 'invalid', 'ERR_BUNDLE_KEY'],
  ])('refuses %s and keeps the last good bundle', async (_name, hostile, fetchOutcome, code) => {
    const { server, resolver, errors } = await federated(good(), { maxBytes: MAX_BYTES });
    server.answer(hostile());
    await resolver.reload();
    expect(errors).toEqual([expect.objectContaining({ name: B, code, keptLastGood: true })]);
    expect(resolver.stats.bundleEndpoints[B]!.fetches).toMatchObject({ applied: 1, [fetchOutcome]: 1 });
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('OK');
    expect(resolver.ready).toBe(true);
  });

  it('follows a redirect to an https URL for one poll, and starts the next poll from the configured URL', async () => {
    const { server, resolver } = await federated({ status: 302, body: '', headers: { location: '/moved' } });
    server.answerAt('/moved', good(1));
    await resolver.reload();
    expect(resolver.ready).toBe(true);
    server.answerAt('/moved', good(2));
    await resolver.reload();
    expect(server.paths.slice(-4)).toEqual(['/bundle', '/moved', '/bundle', '/moved']);
    expect(resolver.stats.bundleEndpoints[B]!.sequence).toBe(2);
  });

  it('takes a bundle of mixed key uses per the spec: x509-svid and jwt-svid keys kept, an unknown use ignored', async () => {
    const mixed = {
      spiffe_sequence: 1,
      keys: [x509BundleKey(world.rootB.pem, 'b-x509'), publicJwk(world.keyB, { use: 'jwt-svid' }), publicJwk(makeKey('b-enc'), { use: 'enc' })],
    };
    const { resolver } = await federated({ body: JSON.stringify(mixed) });
    expect(resolver.ready).toBe(true);
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('OK');
    // a kid listed for X.509-SVIDs never verifies a JWT, whatever key signed it
    const wrongUse = accessRequest({ headers: bearer(await signToken(world.keyB, { sub: WORKLOAD_B, aud: 'meshwarden', exp: world.nowS + 300 }, { kid: 'b-x509' })) });
    expect(await outcome(resolver, wrongUse)).toBe('ERR_JWT_KEY_USE');
    expect(await outcome(resolver, await tokenOf(makeKey('b-enc')))).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it('trusts the bundle for its own trust domain only: a JWT-SVID of another domain signed with its key is untrusted', async () => {
    const { resolver } = await federated(good());
    expect(await outcome(resolver, await tokenOf(world.keyB, 'spiffe://c.test/ns/x/sa/y'))).toBe('ERR_TRUST_DOMAIN_UNTRUSTED');
    expect(await outcome(resolver, await tokenOf(world.keyB, 'spiffe://a.test/ns/shop/sa/cart'))).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    const { resolver, errors } = await federated('hang', { timeoutMs: 300 });
    expect(resolver.ready).toBe(false);
    expect(resolver.failures[0]?.reason).toMatch(/no complete answer within 300 ms$/);
    expect(errors).toEqual([]); // told only to listeners present at the first poll: none yet
    expect(resolver.stats.bundleEndpoints[B]!.fetches.error).toBe(1);
  });

  it('refuses a server that neither the web PKI nor a configured CA vouches for', async () => {
    const { resolver } = await federated(good(), { caFile: undefined });
    expect(resolver.ready).toBe(false);
    expect(resolver.failures[0]).toMatchObject({ code: 'ERR_BUNDLE_FETCH', reason: expect.stringMatching(/certificate/i) });
  });
});
