/**
 * meshwarden's trust bundles from a REAL SPIRE agent (not a double): server and agent built at a
 * pinned release by test/helpers/install-spire.sh, join-token attestation, unix sockets in a temp dir. The resolver,
 * configured with no bundle file at all, turns ready on the agent's first updates, verifies the
 * JWT-SVID and the X.509-SVID SPIRE issued to this very process, keeps serving while the agent is
 * down, and takes the agent's updates again once it is back.
 * Without SPIRE this suite is skipped with one line, CI included for now: a cold SPIRE build
 * takes about 10 minutes, more than the whole suite (the Workload API double's tests run there).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIdentityResolver, type IdentityResolver } from '../../src/identity/index.js';
import { findSpire, Spire, SPIRE_TRUST_DOMAIN, SPIRE_WORKLOAD_ID } from '../helpers/spire.js';
import { accessRequest, bearer } from '../identity/helpers/request.js';
import { urlEncodedPem } from '../identity/helpers/pki.js';

const WAIT = { timeout: 30000, interval: 10 };

const spire = findSpire();
if (!spire.found) console.log(`spire-workload-api: skipped, ${spire.problem}`);

describe.runIf(spire.found)('trust bundles from a real SPIRE agent', () => {
  let agent: Spire;
  let resolver: IdentityResolver;

  beforeAll(async () => {
    if (!spire.found) return; // runIf has skipped the suite
    agent = new Spire(spire.dir);
    await agent.start();
    resolver = await createIdentityResolver(
      { trustDomains: {}, workloadApi: { socket: agent.target }, jwtSvid: { audiences: ['meshwarden'] }, verifyPeerCertificate: true },
      { baseDir: agent.dir, watch: false, workloadApiReconnect: { initialMs: 100, maxMs: 1000 } },
    );
  }, 90_000);

  afterAll(async () => {
    resolver?.close();
    await agent?.close();
  });

  it('turn the resolver ready, with no bundle file at all', async () => {
    await vi.waitUntil(() => resolver.ready, WAIT);
    expect(resolver.failures).toEqual([]);
  });

  it("verify the JWT-SVID SPIRE issued to this process with the streamed keys", async () => {
    const subject = await resolver.resolve(accessRequest({ headers: bearer(agent.fetchJwtSvid('meshwarden')) }));
    expect(subject.workload?.uri).toBe(SPIRE_WORKLOAD_ID);
  });

  it('verify the X.509-SVID SPIRE issued to this process against the streamed roots', async () => {
    const subject = await resolver.resolve(accessRequest({ principal: SPIRE_WORKLOAD_ID, certificate: urlEncodedPem(agent.fetchX509SvidPem()) }));
    expect(subject.workload?.trustDomain).toBe(SPIRE_TRUST_DOMAIN);
  });

  it('keep serving the last good bundles while the agent is down, and take its updates once it is back', async () => {
    const token = agent.fetchJwtSvid('meshwarden');
    const updates = resolver.stats.workloadApi.updates.jwt;
    await agent.stopAgent();
    await vi.waitUntil(() => resolver.stats.workloadApi.reconnects.jwt > 0 && resolver.failures.length > 0, WAIT);
    expect(resolver.failures.every((failure) => failure.keptLastGood)).toBe(true);
    expect((await resolver.resolve(accessRequest({ headers: bearer(token) }))).workload?.uri).toBe(SPIRE_WORKLOAD_ID);
    await agent.startAgent();
    await vi.waitUntil(() => resolver.stats.workloadApi.updates.jwt > updates, WAIT);
    await vi.waitUntil(() => resolver.failures.length === 0, WAIT);
  }, 60_000);
});
