/**
 * Certificate rotation on the mTLS listener, against the built server as a real process: the
 * server certificate and the client CA change on disk (a Kubernetes secret volume's `..data`
 * flip) while Checks run; none fails, new connections get the new certificate and the new
 * CA's clients, the old CA's clients are refused, and a bad file keeps what is in service.
 * Every certificate is made with the openssl CLI in a temp dir, fresh each run.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki } from '../identity/helpers/pki.js';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const CLIENT = 'spiffe://mesh.test/ns/istio-system/sa/ingress';
const ROTATED = 'gRPC listener TLS material rotated';
const REJECTED = 'gRPC listener TLS material rejected; keeping the material in service';

const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: status-for-anyone }
spec:
  action: ALLOW
  rules: [{ to: [{ operation: { paths: ["/status"] } }] }]
`;

/** One generation of the mesh's PKI: a CA, the server's certificate and a client's. */
interface Generation {
  readonly ca: string;
  readonly server: { cert: string; key: string; fingerprint: string };
  readonly client: { cert: string; key: string };
}

let dir: string;
let old: Generation;
let next: Generation;

function generation(pki: TestPki, n: number): Generation {
  const ca = pki.root(`ca-${n}`, 'mesh.test');
  const read = (name: string) => readFileSync(join(pki.dir, name), 'utf8');
  const server = pki.leaf(`server-${n}`, ca, { extra: ['subjectAltName=IP:127.0.0.1'] });
  const client = pki.leaf(`client-${n}`, ca, { uris: [CLIENT] });
  return {
    ca: ca.pem,
    server: { cert: server, key: read(`server-${n}.key`), fingerprint: new X509Certificate(server).fingerprint256 },
    client: { cert: client, key: read(`client-${n}.key`) },
  };
}

/** The files of a Kubernetes secret volume: symlinks through `..data` to a versioned directory. */
function writeVersion(version: string, files: Record<string, string>): void {
  mkdirSync(join(dir, 'tls', version));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, 'tls', version, name), content);
}

/** What the kubelet does on a secret update: a new version, `..data` flipped by rename, the old one removed. */
function flipTo(version: string, files: Record<string, string>): void {
  const previous = readlinkSync(join(dir, 'tls', '..data'));
  writeVersion(version, files);
  symlinkSync(version, join(dir, 'tls', '..data_tmp'));
  renameSync(join(dir, 'tls', '..data_tmp'), join(dir, 'tls', '..data'));
  rmSync(join(dir, 'tls', previous), { recursive: true });
}

const volume = (g: Generation) => ({ 'tls.crt': g.server.cert, 'tls.key': g.server.key, 'ca.crt': g.ca });

beforeAll(() => {
  const pki = new TestPki();
  dir = pki.dir;
  old = generation(pki, 1);
  next = generation(pki, 2);
  writeFileSync(join(dir, 'policies.yaml'), POLICY);
  mkdirSync(join(dir, 'tls'));
  writeVersion('..v1', volume(old));
  symlinkSync('..v1', join(dir, 'tls', '..data'));
  for (const name of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(`..data/${name}`, join(dir, 'tls', name));
});

const clients: CheckClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

/** A client on a connection of its own that trusts both CAs' servers and presents `identity`. */
function clientWith(server: ServerProcess, identity: { cert: string; key: string }): CheckClient {
  const channel = credentials.createSsl(Buffer.from(old.ca + next.ca), Buffer.from(identity.key), Buffer.from(identity.cert));
  const client = new CheckClient(server.grpc, { credentials: channel, deadlineMs: 5_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
  clients.push(client);
  return client;
}

const statusCheck = () => httpCheck({ principal: CLIENT, path: '/status' });

/** The SHA-256 fingerprint of the certificate a new TLS connection (ALPN h2, as Envoy) is served. */
function servedFingerprint(server: ServerProcess, identity: { cert: string; key: string }): Promise<string> {
  const [host, port] = server.grpc.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), ca: [old.ca, next.ca], cert: identity.cert, key: identity.key, ALPNProtocols: ['h2'] });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** Checks one after another until `stop` says so (bounded by `maxMs`); every failure is kept. */
async function checkLoop(client: CheckClient, stop: () => boolean, maxMs = 20_000) {
  const result = { answered: 0, failures: [] as unknown[] };
  const deadline = Date.now() + maxMs;
  while (!stop() && Date.now() < deadline) {
    try {
      const answer = await client.check(statusCheck());
      if (structToJson(answer.dynamicMetadata)['decision'] === 'allow') result.answered++;
      else result.failures.push(answer);
    } catch (error) {
      result.failures.push(error);
    }
    await delay(5);
  }
  return result;
}

describe.each(['native', 'grpc-js'])('the %s transport, when the server certificate and the client CA rotate on disk', (transport) => {
  let server: ServerProcess;

  beforeAll(async () => {
    const config = [
      'policies: [policies.yaml]',
      'reload: { watch: false }',
      'grpc:',
      `  transport: ${transport}`,
      '  tls: { cert: tls/tls.crt, key: tls/tls.key, clientCa: tls/ca.crt }',
    ].join('\n');
    server = await startServer({ configText: config, configDir: dir });
  });

  afterAll(async () => {
    flipTo(`..${transport}-reset`, volume(old)); // the next transport starts from the old generation
    await server.stop();
  });

  it('answers every Check while rotating, and serves the new certificate and CA to new connections', async () => {
    expect(await servedFingerprint(server, old.client)).toBe(old.server.fingerprint);
    const connected = clientWith(server, old.client);
    await connected.check(statusCheck()); // the connection that lives through the rotation

    let rotatedAt = 0;
    const loop = checkLoop(connected, () => rotatedAt > 0 && Date.now() - rotatedAt > 1_000);
    await delay(200);
    flipTo(`..${transport}-next`, volume(next));
    const rotated = await server.waitForLog((line) => line['msg'] === ROTATED);
    rotatedAt = Date.now();
    const { answered, failures } = await loop;

    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(20);
    expect(rotated['certificate']).toMatchObject({ fingerprint256: next.server.fingerprint });
    expect(await servedFingerprint(server, next.client)).toBe(next.server.fingerprint);
    const answer = await clientWith(server, next.client).check(statusCheck());
    expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow' });
  });

  it('refuses, on a new connection, a client that only the old CA vouches for', async () => {
    const error = await clientWith(server, old.client).check(statusCheck()).then(
      () => undefined,
      (e: unknown) => e as ServiceError,
    );
    expect(error?.code).toBe(status.UNAVAILABLE);
  });

  it('keeps the certificate in service when a bad one arrives, and logs why once', async () => {
    flipTo(`..${transport}-bad`, { ...volume(next), 'tls.key': old.server.key });
    const rejected = await server.waitForLog((line) => line['msg'] === REJECTED);
    expect(rejected).toMatchObject({ code: 'ERR_TLS_KEY_MISMATCH', path: join(dir, 'tls', 'tls.crt') });
    process.kill(server.child.pid as number, 'SIGHUP'); // a retry that meets the same bad files
    await server.waitForLog((line) => String(line['msg']).startsWith('SIGHUP'));
    await delay(500);
    expect(server.logs.filter((line) => line['msg'] === REJECTED)).toHaveLength(1);
    expect(await servedFingerprint(server, next.client)).toBe(next.server.fingerprint);
    const answer = await clientWith(server, next.client).check(statusCheck());
    expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow' });
  });
});
