/**
 * MeshwardenListenerSvidRotationStalled against a real Prometheus scraping a real meshwarden
 * whose gRPC listener serves its X.509-SVID from the Workload API (a TEST DOUBLE of the SPIRE
 * agent: grpc-js on the official proto, not SPIRE). An SVID with most of its lifetime left keeps
 * it quiet; one with under a third left (as when the agent stopped renewing) fires it, with the
 * time left in its summary; the next rotation clears it. The SVIDs' validity is set with
 * `openssl ca`, so a stalled rotation needs no waiting. The rules run on the seconds scale of
 * alert-rules-live.test.ts (`for` dropped; promtool's unit tests cover it).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRuleGroups, alertRules, onSecondsScale, SECONDS_SCALE, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { TestPki } from '../identity/helpers/pki.js';
import { WorkloadApiDouble, type SvidMessage } from '../identity/helpers/workload-api-double.js';
import { ENVOY, MESHWARDEN, TD, makeKey, ordersPolicy, workloadApiOnlyConfig } from '../e2e/spire-support.js';
import { publicJwk } from '../identity/helpers/tokens.js';

const POLL = { timeout: 30_000, interval: 500 };
const ALERT = 'MeshwardenListenerSvidRotationStalled';
const EXPIRY = 'meshwarden_workload_api_svid_expiry_timestamp_seconds';
const nowS = () => Math.floor(Date.now() / 1000);

const pki = new TestPki();
const root = pki.root('mesh-root', TD);
const agent = new WorkloadApiDouble();
let server: ServerProcess;
let prometheus: PrometheusServer;

/** openssl's ASN.1 time for `openssl ca -startdate/-enddate`. */
const asn1Time = (s: number) => `${new Date(s * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/** meshwarden's SVID, valid from `fromS` to `toS` (Unix seconds), signed by the mesh root. */
function svidValid(name: string, fromS: number, toS: number): SvidMessage {
  const dir = pki.dir;
  writeFileSync(join(dir, `${name}.ca.cnf`), [
    '[ca]', 'default_ca=svid_ca', '[svid_ca]', `database=${name}.index`, 'new_certs_dir=.', `serial=${name}.serial`, 'default_md=sha256',
    'policy=any', 'unique_subject=no', '[any]', 'organizationName=optional',
    '[ext]', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'authorityKeyIdentifier=keyid',
    `subjectAltName=URI:${MESHWARDEN}`, '',
  ].join('\n'));
  writeFileSync(join(dir, `${name}.index`), '');
  writeFileSync(join(dir, `${name}.serial`), '1000\n');
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=${name}`]);
  openssl(['ca', '-batch', '-notext', '-config', `${name}.ca.cnf`, '-cert', root.certPath, '-keyfile', root.keyPath, '-in', `${name}.csr`, '-out', `${name}.pem`,
    '-startdate', asn1Time(fromS), '-enddate', asn1Time(toS), '-extensions', 'ext']);
  const certificate = new X509Certificate(readFileSync(join(dir, `${name}.pem`)));
  const key = createPrivateKey(readFileSync(join(dir, `${name}.key`)));
  return { spiffe_id: MESHWARDEN, x509_svid: certificate.raw, x509_svid_key: key.export({ format: 'der', type: 'pkcs8' }), bundle: new X509Certificate(root.pem).raw };
}

/** Waits until Prometheus has scraped the SVID that expires at `toS`. */
const scraped = (toS: number) => expect.poll(async () => Number((await prometheus.query(EXPIRY)).data?.result[0]?.value[1]), POLL).toBe(toS);
const firingPods = async () => (await prometheus.firing(ALERT)).map((alert) => alert.labels['pod']);

beforeAll(async () => {
  await agent.start();
  agent.send('x509', { [`spiffe://${TD}`]: new X509Certificate(root.pem).raw });
  agent.send('jwt', { [`spiffe://${TD}`]: Buffer.from(JSON.stringify({ keys: [publicJwk(makeKey('mesh-1'))] })) });
  writeFileSync(join(pki.dir, 'policies.yaml'), ordersPolicy());
  server = await startServer({ configText: workloadApiOnlyConfig(agent.target, ENVOY), configDir: pki.dir });
  prometheus = await startPrometheus({
    jobs: { meshwarden: [{ address: server.admin, labels: { namespace: 'shop', pod: 'meshwarden-1' } }] },
    ruleGroups: onSecondsScale(alertRuleGroups(), SECONDS_SCALE),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([prometheus?.stop(), server?.stop()]);
  await agent.stop();
});

describe("the listener SVID's rotation, in a real Prometheus", () => {
  const expr = alertRules().find((rule) => rule.alert === ALERT)!.expr;

  it('stays quiet on an SVID with most of its lifetime left', async () => {
    const toS = nowS() + 3600;
    agent.sendSvid(svidValid('fresh', nowS() - 60, toS));
    await scraped(toS);
    expect((await prometheus.query(expr)).data?.result).toEqual([]);
    expect(await prometheus.firing(ALERT)).toEqual([]);
  }, 40_000);

  it('fires when the SVID in service has under a third of its lifetime left, saying how long', async () => {
    const toS = nowS() + 600; // 10 of 60 minutes left: renewal at half life is 20 minutes overdue
    agent.sendSvid(svidValid('stalled', toS - 3600, toS));
    await scraped(toS);
    await expect.poll(firingPods, POLL).toEqual(['meshwarden-1']);
    const [alert] = await prometheus.firing(ALERT);
    expect(alert!.labels).toMatchObject({ namespace: 'shop', job: 'meshwarden', severity: 'critical' });
    expect(alert!.annotations['summary']).toMatch(/^The SVID of meshwarden meshwarden-1 expires in 9m \d+s and has not been rotated$/);
  }, 40_000);

  it('clears once a rotated SVID is in service', async () => {
    const toS = nowS() + 3600;
    agent.sendSvid(svidValid('rotated', nowS() - 10, toS));
    await scraped(toS);
    await expect.poll(firingPods, POLL).toEqual([]);
  }, 40_000);
});
