/**
 * Keys change under a running server: the JWKS endpoint goes away (the last good keys keep
 * verifying), a trust bundle is rotated on disk (the watch picks it up; tokens of the old key
 * then get 401), a bundle is corrupted (the last good bundle stays in service).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, structToJson, type Decoded } from '../helpers/check-client.js';
import { CART, TD_A, checkWith, createIdentityWorld, svid, userToken, type IdentityWorld } from '../helpers/identity-fixtures.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makeKey, type SigningKey } from '../identity/helpers/tokens.js';

const POLL = { timeout: 5000, interval: 50 } as const;

interface Running {
  world: IdentityWorld;
  server: ServerProcess;
  client: CheckClient;
}

/** One world and one server per describe: each describe changes keys under its server. */
function running(issuer: Record<string, string> = {}): Running {
  const state = {} as Running;
  beforeAll(async () => {
    state.world = await createIdentityWorld();
    state.server = await startServer({ configText: state.world.configText(issuer), configDir: state.world.dir });
    state.client = new CheckClient(state.server.grpc);
  });
  afterAll(async () => {
    state.client?.close();
    await state.server?.stop();
    await state.world?.close();
  });
  return state;
}

const metadata = (answer: Decoded) => structToJson(answer.dynamicMetadata);
const decisionOf = async (client: CheckClient, request: Record<string, unknown>) => metadata(await client.check(request))['decision'];

async function jwksFetches(server: ServerProcess, result: string): Promise<number> {
  const text = await (await fetch(`http://${server.admin}/metrics`)).text();
  const sample = new RegExp(`^meshwarden_jwks_fetches_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text);
  return sample === null ? Number.NaN : Number(sample[1]);
}

describe('when the JWKS endpoint goes down', () => {
  // maxAge 0: every verification that misses the token cache asks the endpoint, so the
  // outage is really met and not hidden behind a fresh cache
  const ctx = running({ maxAge: '0s' });
  const profile = (token: string) => checkWith({ service: 'profile', path: '/me', token });

  it('keeps verifying new tokens signed with the last good keys', async () => {
    const { world, server, client } = ctx;
    const before = await userToken(world.idpKey, { scope: ['profile:read'] });
    expect(metadata(await client.check(profile(before)))).toMatchObject({ decision: 'allow', policy: 'profile-by-claims' });
    expect(world.jwks.requests).toBeGreaterThan(0);
    expect(await jwksFetches(server, 'success')).toBeGreaterThan(0);

    await world.jwks.close();
    const after = await userToken(world.idpKey, { scope: ['profile:read'] });
    expect(metadata(await client.check(profile(after)))).toMatchObject({ decision: 'allow', policy: 'profile-by-claims' });
    expect(await jwksFetches(server, 'error')).toBeGreaterThan(0);
  });

  it('still refuses a token whose key the last good set does not hold', async () => {
    const { world, client } = ctx;
    await world.jwks.close();
    const unknownKey = await userToken(makeKey('idp-2', 'RS256'), { scope: ['profile:read'] });
    expect(metadata(await client.check(profile(unknownKey)))).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_token' });
  });
});

describe('when the trust bundle is rotated on disk', () => {
  const ctx = running();
  const orders = (token: string, principal?: string) =>
    checkWith({ service: 'orders', path: '/orders/42', token, ...(principal === undefined ? {} : { principal }) });
  let current: SigningKey;

  it('picks up the new key and refuses tokens of the old one, cached ones included', async () => {
    const { world, client } = ctx;
    const old = await svid(world.keyA);
    expect(await decisionOf(client, orders(old))).toBe('allow');

    current = makeKey('a2');
    world.rotateBundleA([current], 2);
    const rotated = await svid(current);
    await expect.poll(() => decisionOf(client, orders(rotated)), POLL).toBe('allow');

    // `old` was verified and cached before the rotation: the reload must have cleared it
    for (const token of [old, await svid(world.keyA)]) {
      const answer = await client.check(orders(token));
      expect(metadata(answer)).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_token' });
      expect(answer.deniedResponse?.status?.code).toBe('Unauthorized');
    }
  });

  it('keeps the last good bundle when the file is corrupted, and says so in the log', async () => {
    const { world, server, client } = ctx;
    current ??= world.keyA;
    writeFileSync(join(world.dir, `${TD_A}.json`), '{"keys": [ trunc');
    await server.waitForLog((line) => String(line['msg']).startsWith('trust material failed to load'), 5000);
    expect(await decisionOf(client, orders(await svid(current)))).toBe('allow');
    expect(await decisionOf(client, orders(await svid(current), CART))).toBe('allow');
  });
});
