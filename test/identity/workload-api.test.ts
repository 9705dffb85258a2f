/**
 * Trust bundles from the SPIFFE Workload API, against a TEST DOUBLE of the agent
 * (helpers/workload-api-double.ts: grpc-js on the official proto, not SPIRE): updates replace
 * the bundles of the domains they carry, a domain that leaves the stream is untrusted at the
 * next update, refused updates and lost streams keep the last good bundles serving, and the
 * resolver is ready only once both streams delivered.
 */
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IdentityResolver, ReloadErrorEvent, ReloadEvent } from '../../src/identity/index.js';
import { accessRequest, bearer } from './helpers/request.js';
import { signToken, makeKey, publicJwk, type SigningKey } from './helpers/tokens.js';
import { buildWorld, outcome, A, B, WORKLOAD_A, WORKLOAD_B, type World } from './helpers/world.js';
import { WorkloadApiDouble, type Bundles } from './helpers/workload-api-double.js';
import { urlEncodedPem } from './helpers/pki.js';

const WAIT = { timeout: 5000, interval: 10 };

let world: World;
const open: { resolver?: IdentityResolver; agent?: WorkloadApiDouble }[] = [];

beforeAll(() => {
  world = buildWorld();
});

afterEach(async () => {
  for (const { resolver, agent } of open.splice(0)) {
    resolver?.close();
    await agent?.stop();
  }
});

const der = (pem: string) => new X509Certificate(pem).raw;
const jwks = (...keys: SigningKey[]) => Buffer.from(JSON.stringify({ keys: keys.map((key) => publicJwk(key)) }));
const x509Of = (domains: Record<string, string>): Bundles =>
  Object.fromEntries(Object.entries(domains).map(([domain, pem]) => [`spiffe://${domain}`, der(pem)]));
const jwtOf = (domains: Record<string, SigningKey[]>): Bundles =>
  Object.fromEntries(Object.entries(domains).map(([domain, keys]) => [`spiffe://${domain}`, jwks(...keys)]));
const svid = (key: SigningKey, sub: string) => signToken(key, { sub, aud: 'meshwarden', exp: world.nowS + 300 });


interface Fed {
  readonly agent: WorkloadApiDouble;
  readonly resolver: IdentityResolver;
  readonly reloads: ReloadEvent[];
  readonly errors: ReloadErrorEvent[];
}

/** A resolver fed only by the agent double (no bundle file), the double already serving `first`. */
async function fed(first?: { x509: Bundles; jwt: Bundles }, trustDomains = {}): Promise<Fed> {
  const agent = new WorkloadApiDouble();
  await agent.start();
  if (first !== undefined) {
    agent.send('x509', first.x509);
    agent.send('jwt', first.jwt);
  }
  const resolver = await world.resolver({ trustDomains, workloadApi: { socket: agent.target } }, { workloadApiReconnect: { initialMs: 20, maxMs: 100 } });
  open.push({ resolver, agent });
  const reloads: ReloadEvent[] = [];
  const errors: ReloadErrorEvent[] = [];
  resolver.on('reload', (event) => reloads.push(event));
  resolver.on('error', (event) => errors.push(event));
  return { agent, resolver, reloads, errors };
}

const bothDomains = () => ({ x509: x509Of({ [A]: world.rootA.pem, [B]: world.rootB.pem }), jwt: jwtOf({ [A]: [world.keyA], [B]: [world.keyB] }) });
const tokenOf = async (key: SigningKey, sub: string) => accessRequest({ headers: bearer(await svid(key, sub)) });

describe('trust bundles from the Workload API', () => {
  it('are not ready until both streams delivered, then verify JWT-SVIDs of every streamed domain', async () => {
    const { agent, resolver } = await fed();
    expect(resolver.ready).toBe(false);
    expect(await outcome(resolver, await tokenOf(world.keyB, WORKLOAD_B))).toBe('ERR_TRUST_DOMAIN_UNTRUSTED');
    agent.send('x509', bothDomains().x509);
    await vi.waitUntil(() => resolver.stats.workloadApi.updates.x509 === 1, WAIT);
    expect(resolver.ready).toBe(false);
    agent.send('jwt', bothDomains().jwt);
    await vi.waitUntil(() => resolver.ready, WAIT);
    expect(await outcome(resolver, await tokenOf(world.keyB, WORKLOAD_B))).toBe('OK');
    expect(await outcome(resolver, await tokenOf(world.keyA, WORKLOAD_A))).toBe('OK');
    expect(agent.refusedCalls).toBe(0);
  });

  it('verify an X.509-SVID against the streamed roots', async () => {
    const { resolver } = await fed(bothDomains());
    await vi.waitUntil(() => resolver.ready, WAIT);
    const leaf = world.pki.leaf('wl-leaf-a', world.rootA, { uris: [WORKLOAD_A] });
    expect(await outcome(resolver, accessRequest({ principal: WORKLOAD_A, certificate: urlEncodedPem(leaf) }))).toBe('OK');
  });

  it('untrust a domain at the first update that no longer carries it, whatever file is configured for it', async () => {
    const { agent, resolver, reloads } = await fed(bothDomains(), { [B]: { bundle: 'b.json' } });
    await vi.waitUntil(() => resolver.ready, WAIT);
    agent.send('jwt', jwtOf({ [A]: [world.keyA] }));
    agent.send('x509', x509Of({ [A]: world.rootA.pem }));
    await vi.waitUntil(() => resolver.stats.workloadApi.updates.x509 === 2, WAIT);
    expect(await outcome(resolver, await tokenOf(world.keyB, WORKLOAD_B))).toBe('ERR_TRUST_DOMAIN_UNTRUSTED');
    expect(reloads).toContainEqual(expect.objectContaining({ name: B, withdrawn: true }));
  });

  it('answer for a file-configured domain from its file until the stream carries it', async () => {
    const { resolver } = await fed({ x509: x509Of({ [A]: world.rootA.pem }), jwt: jwtOf({ [A]: [world.keyA] }) }, { [B]: { bundle: 'b.json' } });
    await vi.waitUntil(() => resolver.ready, WAIT);
    expect(await outcome(resolver, await tokenOf(world.keyB, WORKLOAD_B))).toBe('OK');
  });

  it('rotate JWT keys in one update: the new key verifies, the removed one fails', async () => {
    const { agent, resolver } = await fed(bothDomains());
    await vi.waitUntil(() => resolver.ready, WAIT);
    const oldToken = await tokenOf(world.keyA, WORKLOAD_A);
    expect(await outcome(resolver, oldToken)).toBe('OK');
    const next = makeKey('a-next');
    agent.send('jwt', jwtOf({ [A]: [next], [B]: [world.keyB] }));
    await vi.waitUntil(() => resolver.stats.workloadApi.updates.jwt === 2, WAIT);
    expect(await outcome(resolver, await tokenOf(next, WORKLOAD_A))).toBe('OK');
    expect(await outcome(resolver, oldToken)).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it.each([
    ['an empty update', {}],
    ['a key that is not a trust domain ID', { 'spiffe://Not A Domain': Buffer.from('{"keys":[]}') }],
    ['bytes that are not JSON', { [`spiffe://${A}`]: Buffer.from('garbage') }],
    ['a key for X.509-SVIDs in a JWT bundle', { [`spiffe://${A}`]: Buffer.from(JSON.stringify({ keys: [publicJwk(world?.keyA ?? makeKey('x'), { use: 'x509-svid' })] })) }],
  ])('refuse %s and keep the last good bundles serving', async (_name, bundles) => {
    const { agent, resolver, errors } = await fed(bothDomains());
    await vi.waitUntil(() => resolver.ready, WAIT);
    agent.sendRaw('jwt', { bundles });
    await vi.waitUntil(() => resolver.stats.workloadApi.rejected.jwt === 1, WAIT);
    expect(errors[0]).toMatchObject({ name: 'workload-api:jwt', keptLastGood: true, reason: expect.stringMatching(/JWTBundlesResponse\.bundles/) });
    expect(await outcome(resolver, await tokenOf(world.keyA, WORKLOAD_A))).toBe('OK');
    expect(resolver.ready).toBe(true);
  });

  it('refuse X.509 bundle bytes that are not DER certificates, naming the entry', async () => {
    const { agent, resolver, errors } = await fed(bothDomains());
    await vi.waitUntil(() => resolver.ready, WAIT);
    agent.sendRaw('x509', { bundles: { [`spiffe://${A}`]: Buffer.from([0x30, 0x82, 0xff]) } });
    await vi.waitUntil(() => resolver.stats.workloadApi.rejected.x509 === 1, WAIT);
    expect(errors[0]?.reason).toContain(`X509BundlesResponse.bundles["spiffe://${A}"]: not a list of DER certificates`);
  });

  it('reconnect after a stream error, counting it, the last good bundles serving meanwhile', async () => {
    const { agent, resolver, errors } = await fed(bothDomains());
    await vi.waitUntil(() => resolver.ready, WAIT);
    agent.failStreams('jwt');
    await vi.waitUntil(() => resolver.stats.workloadApi.reconnects.jwt === 1, WAIT);
    expect(errors[0]).toMatchObject({ keptLastGood: true, reason: expect.stringContaining('UNAVAILABLE: agent is shutting down') });
    expect(await outcome(resolver, await tokenOf(world.keyA, WORKLOAD_A))).toBe('OK');
    await vi.waitUntil(() => resolver.stats.workloadApi.updates.jwt === 2, WAIT);
    expect(resolver.failures).toEqual([]);
  });

  it('survive the agent going away and coming back on the same socket', async () => {
    const { agent, resolver, errors } = await fed(bothDomains());
    await vi.waitUntil(() => resolver.ready, WAIT);
    await agent.stop();
    await vi.waitUntil(() => resolver.stats.workloadApi.reconnects.x509 >= 4, WAIT);
    expect(resolver.failures.map((failure) => failure.keptLastGood)).toEqual([true, true]);
    // loud, not a flood: every retry is counted, told only when its cause changes (the cut, then no connection)
    expect(errors.filter((event) => event.name === 'workload-api:x509').length).toBeLessThanOrEqual(2);
    expect(await outcome(resolver, await tokenOf(world.keyB, WORKLOAD_B))).toBe('OK');
    const restarted = new WorkloadApiDouble(agent.socketPath.replace(/\/agent\.sock$/, ''));
    open.push({ agent: restarted });
    restarted.send('x509', x509Of({ [A]: world.rootA.pem }));
    restarted.send('jwt', jwtOf({ [A]: [world.keyA] }));
    await restarted.start();
    await vi.waitUntil(() => resolver.stats.workloadApi.updates.jwt === 2 && resolver.stats.workloadApi.updates.x509 === 2, WAIT);
    expect(await outcome(resolver, await tokenOf(world.keyB, WORKLOAD_B))).toBe('ERR_TRUST_DOMAIN_UNTRUSTED');
    expect(resolver.stats.workloadApi.lastUpdateAt).toBeGreaterThan(0);
  });

  it('say why it is not ready when the agent cannot be reached at all', async () => {
    const agent = new WorkloadApiDouble();
    const resolver = await world.resolver({ trustDomains: {}, workloadApi: { socket: agent.target } }, { workloadApiReconnect: { initialMs: 20, maxMs: 100 } });
    open.push({ resolver });
    await vi.waitUntil(() => resolver.failures.length === 2, WAIT);
    expect(resolver.ready).toBe(false);
    expect(resolver.failures[0]).toMatchObject({ keptLastGood: false, reason: expect.stringMatching(/^Workload API unix:.*agent\.sock \(X\.509 bundles\): UNAVAILABLE/) });
  });
});
