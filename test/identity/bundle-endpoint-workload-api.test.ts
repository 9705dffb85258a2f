/**
 * A bundle endpoint beside the Workload API (the agent is a TEST DOUBLE: grpc-js on the official
 * proto, not SPIRE): the endpoint answers for its trust domain while the agent never carried it,
 * as a file would; once the agent streams that domain, the agent answers for it.
 */
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IdentityResolver } from '../../src/identity/index.js';
import { accessRequest, bearer } from './helpers/request.js';
import { BundleEndpointServer } from './helpers/bundle-endpoint-server.js';
import { x509BundleKey } from './helpers/pki.js';
import { makeKey, publicJwk, signToken, type SigningKey } from './helpers/tokens.js';
import { WorkloadApiDouble } from './helpers/workload-api-double.js';
import { buildWorld, outcome, A, B, WORKLOAD_B, type World } from './helpers/world.js';

const WAIT = { timeout: 5000, interval: 10 };
let world: World;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  world = buildWorld();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const jwks = (...keys: SigningKey[]) => Buffer.from(JSON.stringify({ keys: keys.map((key) => publicJwk(key)) }));
const tokenOf = async (key: SigningKey) => accessRequest({ headers: bearer(await signToken(key, { sub: WORKLOAD_B, aud: 'meshwarden', exp: world.nowS + 300 })) });

async function agentAndEndpoint(): Promise<{ agent: WorkloadApiDouble; resolver: IdentityResolver }> {
  const ca = world.pki.root(`wl-endpoint-ca-${Date.now()}`, 'endpoint-ca.test');
  const endpoint = new BundleEndpointServer(world.pki, ca, `wl-endpoint-${Date.now()}`);
  await endpoint.start();
  cleanups.push(() => endpoint.stop());
  endpoint.serve({ spiffe_sequence: 1, keys: [x509BundleKey(world.rootB.pem), publicJwk(world.keyB, { use: 'jwt-svid' })] });
  const agent = new WorkloadApiDouble();
  await agent.start();
  cleanups.push(() => agent.stop());
  agent.send('x509', { [`spiffe://${A}`]: new X509Certificate(world.rootA.pem).raw });
  agent.send('jwt', { [`spiffe://${A}`]: jwks(world.keyA) });
  const bundleEndpoint = { url: endpoint.url, profile: 'https_web' as const, caFile: ca.certPath };
  const resolver = await world.resolver(
    { trustDomains: { [B]: { bundleEndpoint } }, workloadApi: { socket: agent.target } },
    { workloadApiReconnect: { initialMs: 20, maxMs: 100 } },
  );
  cleanups.push(() => resolver.close());
  return { agent, resolver };
}

describe('a bundle endpoint beside the Workload API', () => {
  it('answers for its trust domain while the agent does not carry it', async () => {
    const { resolver } = await agentAndEndpoint();
    await vi.waitUntil(() => resolver.ready, WAIT);
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('OK');
  });

  it('gives way to the agent once the agent streams that domain', async () => {
    const { agent, resolver } = await agentAndEndpoint();
    await vi.waitUntil(() => resolver.ready, WAIT);
    const agentsKey = makeKey('b-from-agent');
    agent.send('jwt', { [`spiffe://${A}`]: jwks(world.keyA), [`spiffe://${B}`]: jwks(agentsKey) });
    await vi.waitUntil(() => resolver.stats.workloadApi.updates.jwt === 2, WAIT);
    expect(await outcome(resolver, await tokenOf(agentsKey))).toBe('OK');
    expect(await outcome(resolver, await tokenOf(world.keyB))).toBe('ERR_JWT_KEY_NOT_FOUND');
  });
});
