/**
 * A Workload API bundle stream that writes bytes that are no protobuf message at all, against a
 * TEST DOUBLE of the agent (grpc-js on the official proto, not SPIRE; no real agent does this):
 * the stream is refused and opened again, the failure named, the last good bundles serving.
 */
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IdentityResolver, ReloadErrorEvent } from '../../src/identity/index.js';
import { accessRequest, bearer } from './helpers/request.js';
import { publicJwk, signToken } from './helpers/tokens.js';
import { buildWorld, outcome, A, WORKLOAD_A, type World } from './helpers/world.js';
import { WorkloadApiDouble } from './helpers/workload-api-double.js';

const WAIT = { timeout: 5000, interval: 10 };
const NOT_PROTOBUF = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x42]);

let world: World;
const open: { resolver: IdentityResolver; agent: WorkloadApiDouble }[] = [];

beforeAll(() => {
  world = buildWorld();
});

afterEach(async () => {
  for (const { resolver, agent } of open.splice(0)) {
    resolver.close();
    await agent.stop();
  }
});

describe('a Workload API bundle stream that sends garbage on the wire', () => {
  it.each(['x509', 'jwt'] as const)('(%s) is opened again, the failure logged once, the last good bundles verifying meanwhile', async (stream) => {
    const agent = new WorkloadApiDouble();
    await agent.start();
    agent.send('x509', { [`spiffe://${A}`]: new X509Certificate(world.rootA.pem).raw });
    agent.send('jwt', { [`spiffe://${A}`]: Buffer.from(JSON.stringify({ keys: [publicJwk(world.keyA)] })) });
    const resolver = await world.resolver({ trustDomains: {}, workloadApi: { socket: agent.target } }, { workloadApiReconnect: { initialMs: 20, maxMs: 100 } });
    open.push({ resolver, agent });
    const errors: ReloadErrorEvent[] = [];
    resolver.on('error', (event) => errors.push(event));
    await vi.waitUntil(() => resolver.ready, WAIT);

    agent.sendRaw(stream, NOT_PROTOBUF);
    await vi.waitUntil(() => resolver.stats.workloadApi.reconnects[stream] === 1 && agent.opened[stream] === 2, WAIT);
    expect(errors).toEqual([expect.objectContaining({ keptLastGood: true, reason: expect.stringMatching(/bundles\): INTERNAL: /) })]);
    const token = await signToken(world.keyA, { sub: WORKLOAD_A, aud: 'meshwarden', exp: world.nowS + 300 });
    expect(await outcome(resolver, accessRequest({ headers: bearer(token) }))).toBe('OK');
    // the reopened stream delivers again: the failure is over
    await vi.waitUntil(() => resolver.stats.workloadApi.updates[stream] === 2, WAIT);
    expect(resolver.failures).toEqual([]);
  });
});
