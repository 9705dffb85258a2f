/**
 * OIDC keys from a real HTTP JWKS endpoint on 127.0.0.1. The clock (Date, which jose's
 * cooldown reads too) is faked; the network is real.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdentityResolver, type IdentityResolver, type IssuerOptions } from '../../src/identity/index.js';
import { accessRequest, bearer } from './helpers/request.js';
import { makeKey, publicJwk, signToken, type SigningKey } from './helpers/tokens.js';
import { outcome, rejection } from './helpers/world.js';

const IDP = 'https://login.test';
type Mode = 'ok' | 'down' | 'garbage' | 'html' | 'hang';
let server: Server;
let url = '';
let mode: Mode = 'ok';
let served: SigningKey[] = [];
let hits = 0;
const k1 = makeKey('k1', 'RS256');
const k2 = makeKey('k2', 'ES256');

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits++;
    if (mode === 'hang') return;
    if (mode === 'down') return void res.writeHead(503).end('unavailable');
    if (mode === 'html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    if (mode === 'garbage') return void res.writeHead(200).end(JSON.stringify({ keys: 'none' }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served.map((k) => publicJwk(k, { use: 'sig' })) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

let resolver: IdentityResolver;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
  mode = 'ok';
  served = [k1];
  hits = 0;
});
afterEach(() => {
  resolver?.close();
  vi.useRealTimers();
});

async function makeResolver(issuer: Partial<IssuerOptions> = {}): Promise<IdentityResolver> {
  resolver = await createIdentityResolver(
    { trustDomains: {}, issuers: [{ issuer: IDP, audiences: ['api'], jwksUri: url, cooldownMs: 30_000, maxAgeMs: 600_000, ...issuer }] },
    { baseDir: '.', watch: false },
  );
  return resolver;
}

/** A fresh token each time (jti), so the token cache never answers for the endpoint. */
async function userToken(key: SigningKey): Promise<ReturnType<typeof accessRequest>> {
  const now = Math.floor(Date.now() / 1000);
  return accessRequest({ headers: bearer(await signToken(key, { iss: IDP, sub: 'alice', aud: 'api', exp: now + 3600, jti: randomUUID() })) });
}

const advance = (ms: number): void => void vi.setSystemTime(Date.now() + ms);

describe('remote JWKS', () => {
  it('fetches the keys once and verifies with them', async () => {
    const r = await makeResolver();
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    expect(hits).toBe(1);
    expect(r.stats.jwksFetches).toEqual({ ok: 1, invalid: 0, httpError: 0, error: 0 });
    expect(r.stats.verifications.oidc).toEqual({ ok: 2, failed: 0 });
  });

  it('answers a miss asynchronously only while the key set is fetched', async () => {
    const r = await makeResolver();
    const first = r.resolve(await userToken(k1));
    expect(first).toBeInstanceOf(Promise);
    await first;
    const second = r.resolve(await userToken(k1)); // another token: a cache miss, keys at hand
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ user: { principal: `${IDP}/alice` } });
    advance(601_000); // the set is stale: jose refetches before it answers
    const third = r.resolve(await userToken(k1));
    expect(third).toBeInstanceOf(Promise);
    await third;
    expect(hits).toBe(2);
    expect(r.stats.verifications.oidc).toEqual({ ok: 3, failed: 0 });
  });

  it('shares one fetch among concurrent first requests', async () => {
    const r = await makeResolver();
    const results = await Promise.all([1, 2, 3, 4, 5].map(async () => outcome(r, await userToken(k1))));
    expect(results).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
    expect(hits).toBe(1);
  });

  it('refetches at most once per cooldown for unknown kids', async () => {
    const r = await makeResolver();
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    advance(31_000);
    expect(await outcome(r, await userToken(k2))).toBe('ERR_JWT_KEY_NOT_FOUND');
    expect(hits).toBe(2);
    expect(await outcome(r, await userToken(k2))).toBe('ERR_JWT_KEY_NOT_FOUND');
    expect(await outcome(r, await userToken(makeKey('k3')))).toBe('ERR_JWT_KEY_NOT_FOUND');
    expect(hits).toBe(2);
    served = [k1, k2];
    advance(31_000);
    expect(await outcome(r, await userToken(k2))).toBe('OK');
    expect(hits).toBe(3);
  });

  it('keeps the last good keys when the endpoint goes down, and does not hammer it', async () => {
    const r = await makeResolver();
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    mode = 'down';
    advance(601_000); // keys are stale: jose wants to refetch
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    expect(hits).toBe(2);
    expect(r.stats.jwksFetches.httpError).toBe(1);
    advance(31_000);
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    expect(hits).toBe(3);
  });

  it.each<Mode>(['garbage', 'html'])('keeps the last good keys when the endpoint answers %s', async (bad) => {
    const r = await makeResolver();
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    mode = bad;
    advance(601_000);
    expect(await outcome(r, await userToken(k1))).toBe('OK');
    expect(hits).toBe(2);
    expect(r.stats.jwksFetches.invalid).toBe(1);
  });

  it('answers identity_unavailable when no keys could ever be loaded', async () => {
    mode = 'down';
    const r = await makeResolver();
    const error = await rejection(r, await userToken(k1));
    expect(error).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', reason: 'identity_unavailable' });
    expect(r.stats.rejections.ERR_JWKS_UNAVAILABLE).toBe(1);
  });

  it('gives up on an endpoint that never answers after the timeout', async () => {
    mode = 'hang';
    const r = await makeResolver({ timeoutMs: 150 });
    const started = performance.now();
    expect(await outcome(r, await userToken(k1))).toBe('ERR_JWKS_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(r.stats.jwksFetches.error).toBe(1);
  });

  it('uses the injected fetch, and nothing else, for the key set', async () => {
    const fetchSpy = vi.fn((input: string, init: RequestInit) => fetch(input, init));
    resolver = await createIdentityResolver(
      { trustDomains: {}, issuers: [{ issuer: IDP, audiences: ['api'], jwksUri: url }] },
      { baseDir: '.', watch: false, fetch: fetchSpy },
    );
    expect(await outcome(resolver, await userToken(k1))).toBe('OK');
    expect(fetchSpy).toHaveBeenCalledOnce();
    expect(fetchSpy.mock.calls[0]?.[0]).toBe(url);
  });
});
