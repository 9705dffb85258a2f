/**
 * The gRPC listener's TLS material from the Workload API (FetchX509SVID), against a TEST
 * DOUBLE of the agent (grpc-js on the official proto, not SPIRE; the real-SPIRE suite is
 * test/e2e/spire-workload-api.test.ts): the SVID becomes certificate, key and client CA; every
 * hostile update is refused with a line naming what was wrong, the last good SVID serving on.
 */
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SvidFailure } from '../../../src/identity/index.js';
import type { GrpcTlsMaterial } from '../../../src/server/grpc/listener.js';
import { TlsMaterialWorkloadApi, type SvidRotation } from '../../../src/server/net/tls-material-workload-api.js';
import { TestPki, type Issuer } from '../../identity/helpers/pki.js';
import { WorkloadApiDouble } from '../../identity/helpers/workload-api-double.js';
import { issueSvid, type IssuedSvid } from '../../identity/helpers/workload-svids.js';

const ID = 'spiffe://mesh.test/ns/meshwarden/sa/meshwarden';
const WAIT = { timeout: 5000, interval: 10 };

let pki: TestPki;
let root: Issuer;
let otherRoot: Issuer;
let first: IssuedSvid;
let second: IssuedSvid;
const open: { source: TlsMaterialWorkloadApi; agent: WorkloadApiDouble }[] = [];

beforeAll(() => {
  pki = new TestPki();
  root = pki.root('svid-root', 'mesh.test');
  otherRoot = pki.root('other-root', 'mesh.test');
  first = issueSvid(pki, root, 'svid-1', ID);
  second = issueSvid(pki, root, 'svid-2', ID);
});

afterEach(async () => {
  skewMs = 0;
  for (const { source, agent } of open.splice(0)) {
    source.close();
    await agent.stop();
  }
});

interface Fed {
  readonly agent: WorkloadApiDouble;
  readonly source: TlsMaterialWorkloadApi;
  readonly rotations: SvidRotation[];
  readonly failures: SvidFailure[];
  readonly heard: GrpcTlsMaterial[];
}

/** How far ahead of the wall clock the sources' clock runs (the SVIDs' validity is judged by it). */
let skewMs = 0;

async function fed(svid?: IssuedSvid): Promise<Fed> {
  const agent = new WorkloadApiDouble();
  await agent.start();
  if (svid) agent.sendSvid(svid.message);
  const rotations: SvidRotation[] = [];
  const failures: SvidFailure[] = [];
  const source = TlsMaterialWorkloadApi.start(agent.target, {
    onRotated: (rotation) => rotations.push(rotation),
    onRejected: (failure) => failures.push(failure),
    reconnect: { initialMs: 20, maxMs: 100 },
    now: () => Date.now() + skewMs,
  });
  open.push({ source, agent });
  if (svid) await vi.waitUntil(() => source.current !== undefined, WAIT);
  // what the listener hears after the first SVID
  const heard: GrpcTlsMaterial[] = [];
  source.onChange((material) => heard.push(material));
  return { agent, source, rotations, failures, heard };
}

const servedSerial = (source: TlsMaterialWorkloadApi) => new X509Certificate(source.current!.cert).serialNumber;

describe('the listener TLS material from the Workload API', () => {
  it('has none until the first SVID and says why, then serves it as certificate, key and client CA', async () => {
    const { agent, source, rotations } = await fed();
    expect(source.current).toBeUndefined();
    expect(source.mutual).toBe(true);
    expect(source.notReadyReason).toMatch(/X\.509-SVID\): waiting for the first SVID/);
    agent.sendSvid(first.message);
    await vi.waitUntil(() => source.current !== undefined, WAIT);
    expect(servedSerial(source)).toBe(first.serialNumber);
    expect(new X509Certificate(source.current!.clientCa!).fingerprint256).toBe(new X509Certificate(root.pem).fingerprint256);
    expect(source.current!.key.toString()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(source.notReadyReason).toBeUndefined();
    expect(rotations).toEqual([expect.objectContaining({ spiffeId: ID, first: true })]);
    expect(source.stats).toMatchObject({ updates: 1, rejected: 0, expiresAt: Date.parse(new X509Certificate(first.pem).validTo) });
  });

  it('puts each rotated SVID in service and tells the listener', async () => {
    const { agent, source, heard, rotations } = await fed(first);
    agent.sendSvid(second.message);
    await vi.waitUntil(() => servedSerial(source) === second.serialNumber, WAIT);
    expect(heard.map((material) => new X509Certificate(material.cert).serialNumber)).toEqual([second.serialNumber]);
    expect(rotations.at(-1)).toMatchObject({ first: false, certificate: { serialNumber: second.serialNumber } });
  });

  it('takes the SVID in service sent again (a new stream) as no rotation', async () => {
    const { agent, source, heard, rotations } = await fed(first);
    agent.failStreams('svid');
    await vi.waitUntil(() => source.stats.updates === 2, WAIT);
    expect(heard).toEqual([]);
    expect(rotations).toHaveLength(1);
  });

  it('waits without readiness while the agent cannot be reached, saying which stream failed', async () => {
    const agent = new WorkloadApiDouble();
    const source = TlsMaterialWorkloadApi.start(agent.target, { reconnect: { initialMs: 20, maxMs: 100 } });
    open.push({ source, agent });
    await vi.waitUntil(() => source.stats.reconnects > 0, WAIT);
    expect(source.notReadyReason).toMatch(/^Workload API unix:.*agent\.sock \(X\.509-SVID\): UNAVAILABLE/);
  });
});

describe('a hostile X.509-SVID update is refused, the last good SVID serving on', () => {
  const cases: [string, () => object | Buffer, string, RegExp][] = [
    ['an SVID whose URI SAN is not the response spiffe_id', () => ({ svids: [{ ...issueSvid(pki, root, 'liar', ID, { uriInCert: 'spiffe://mesh.test/ns/shop/sa/cart' }).message }] }),
      'ERR_SVID_ID_MISMATCH', /x509_svid: the certificate names spiffe:\/\/mesh\.test\/ns\/shop\/sa\/cart, the response says spiffe:\/\/mesh\.test\/ns\/meshwarden/],
    ['a certificate with the key of another', () => ({ svids: [{ ...second.message, x509_svid_key: first.message.x509_svid_key }] }),
      'ERR_SVID_KEY_MISMATCH', /x509_svid_key: not the key of the certificate/],
    ['garbage DER for the certificate', () => ({ svids: [{ ...second.message, x509_svid: Buffer.from('not a certificate') }] }),
      'ERR_SVID_CERT_INVALID', /svids\[0\]\.x509_svid: not a list of DER certificates/],
    ['garbage DER for the key', () => ({ svids: [{ ...second.message, x509_svid_key: Buffer.from('not a key') }] }),
      'ERR_SVID_KEY_INVALID', /svids\[0\]\.x509_svid_key: not a PKCS#8 DER private key/],
    ['garbage DER for the bundle', () => ({ svids: [{ ...second.message, bundle: Buffer.from([0x30, 0x03, 1, 2]) }] }),
      'ERR_SVID_BUNDLE_INVALID', /svids\[0\]\.bundle: not a list of DER certificates/],
    ['an SVID that does not chain to the bundle it comes with', () => ({ svids: [{ ...issueSvid(pki, otherRoot, 'stray', ID).message, bundle: second.message.bundle }] }),
      'ERR_SVID_UNTRUSTED', /does not end at a root of X509SVIDResponse\.svids\[0\]\.bundle/],
    ['an empty X509SVIDResponse', () => ({}), 'ERR_SVID_EMPTY', /X509SVIDResponse\.svids: empty update/],
    ['a spiffe_id that is no workload ID', () => ({ svids: [{ ...second.message, spiffe_id: 'spiffe://mesh.test' }] }),
      'ERR_SVID_ID_INVALID', /spiffe_id: "spiffe:\/\/mesh\.test" is not a workload SPIFFE ID/],
  ];

  it.each(cases)('%s', async (_, message, code, reason) => {
    const { agent, source, failures, heard } = await fed(first);
    agent.sendRaw('svid', message());
    await vi.waitUntil(() => failures.length > 0, WAIT);
    expect(failures).toEqual([expect.objectContaining({ code, keptLastGood: true })]);
    expect(failures[0]!.reason).toMatch(reason);
    expect(failures[0]!.reason).not.toContain(Buffer.from(first.message.x509_svid_key).toString('base64').slice(0, 40));
    expect(servedSerial(source)).toBe(first.serialNumber);
    expect(heard).toEqual([]);
    expect(source.stats).toMatchObject({ updates: 1, rejected: 1 });
    // and the next good SVID is taken
    agent.sendSvid(second.message);
    await vi.waitUntil(() => servedSerial(source) === second.serialNumber, WAIT);
  });

  it('an SVID outside its validity by our clock (expired, or the agent clock ahead)', async () => {
    const { agent, source, failures } = await fed(first);
    skewMs = 31 * 86_400_000; // the test PKI's leaves live 30 days
    agent.sendSvid(second.message);
    await vi.waitUntil(() => failures.length > 0, WAIT);
    expect(failures[0]).toMatchObject({ code: 'ERR_SVID_NOT_VALID_NOW', keptLastGood: true });
    expect(failures[0]!.reason).toMatch(/svids\[0\]\.x509_svid: valid from .* to .*, not now \(/);
    expect(servedSerial(source)).toBe(first.serialNumber);
    skewMs = 0;
    agent.failStreams('svid'); // the agent sends it again on the new stream, now valid
    await vi.waitUntil(() => servedSerial(source) === second.serialNumber, WAIT);
  });

  it('a stream that sends bytes that are no X509SVIDResponse: the stream is opened again, the SVID kept', async () => {
    const { agent, source, failures } = await fed(first);
    agent.sendRaw('svid', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x42]));
    await vi.waitUntil(() => failures.length > 0, WAIT);
    expect(failures[0]).toMatchObject({ code: 'ERR_SVID_READ', keptLastGood: true });
    expect(failures[0]!.reason).toMatch(/\(X\.509-SVID\): INTERNAL: .*reconnecting in \d+ ms/);
    await vi.waitUntil(() => agent.opened.svid >= 2, WAIT);
    expect(servedSerial(source)).toBe(first.serialNumber);
    expect(source.stats.reconnects).toBeGreaterThanOrEqual(1);
  });
});
