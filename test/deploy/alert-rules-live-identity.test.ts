/**
 * MeshwardenTokenVerificationFailures against a real Prometheus scraping a real meshwarden
 * that verifies real JWT-SVIDs (the e2e identity world: bundles on disk, keys made per run):
 * valid credentials keep it quiet, a client sending expired ones fires it for its kind.
 * The rules run on the seconds scale of alert-rules-live.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient } from '../helpers/check-client.js';
import { createIdentityWorld, checkWith, svid, type IdentityWorld } from '../helpers/identity-fixtures.js';
import { alertRuleGroups, onSecondsScale, PacedTraffic, SECONDS_SCALE, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const POLL = { timeout: 30_000, interval: 500 };
const ALERT = 'MeshwardenTokenVerificationFailures';
const now = () => Math.floor(Date.now() / 1000);

let world: IdentityWorld;
let server: ServerProcess;
let client: CheckClient;
let prometheus: PrometheusServer;

beforeAll(async () => {
  world = await createIdentityWorld();
  server = await startServer({ configDir: world.dir, configText: world.configText() });
  client = new CheckClient(server.grpc, { deadlineMs: 10_000 });
  prometheus = await startPrometheus({
    jobs: { meshwarden: [{ address: server.admin, labels: { namespace: 'shop', pod: 'meshwarden-1' } }] },
    ruleGroups: onSecondsScale(alertRuleGroups(), SECONDS_SCALE),
  });
}, 60_000);

afterAll(async () => {
  client?.close();
  await Promise.all([prometheus?.stop(), server?.stop()]);
  await world?.close();
});

/** A JWT-SVID per Check (a fresh jti each), so every one is a token cache miss and is verified. */
const withSvid = (claims = {}) => async () => client.check(checkWith({ service: 'status', path: '/healthz', token: await svid(world.keyA, claims) }));
const verifications = (result: string) => `meshwarden_token_verifications_total{kind="jwt_svid",result="${result}"}`;
const value = async (expr: string) => Number((await prometheus.query(expr)).data?.result[0]?.value[1] ?? NaN);

describe('token verification failures, in a real Prometheus', () => {
  it('stay quiet while the JWT-SVIDs verify', async () => {
    const valid = new PacedTraffic(withSvid(), 10, 300);
    try {
      await expect.poll(() => value(`sum(rate(${verifications('valid')}[5s]))`), POLL).toBeGreaterThan(1);
    } finally {
      await valid.stop();
    }
    expect(await value(`sum(${verifications('invalid')})`)).toBe(0);
    expect(await prometheus.firing(ALERT)).toEqual([]);
  }, 40_000);

  it('fire for jwt_svid when a client keeps sending expired JWT-SVIDs', async () => {
    const expired = new PacedTraffic(withSvid({ iat: now() - 1200, exp: now() - 600 }), 10, 600);
    try {
      await expect.poll(async () => (await prometheus.firing(ALERT)).map((a) => a.labels['kind']), POLL).toEqual(['jwt_svid']);
    } finally {
      await expired.stop();
    }
    const [alert] = await prometheus.firing(ALERT);
    expect(alert!.labels).toMatchObject({ namespace: 'shop', job: 'meshwarden', severity: 'warning' });
    expect(alert!.annotations['summary']).toMatch(/^\d+(\.\d+)?% of jwt_svid credentials fail verification in shop\/meshwarden$/);
  }, 40_000);
});
