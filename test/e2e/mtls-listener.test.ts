/**
 * mTLS on the ext_authz listener, against the built server as a real process: the handshake
 * refuses clients without a certificate from the client CA, and `allowedClientIds` admits only
 * the SPIFFE IDs it lists (a refused client gets PERMISSION_DENIED, never a CheckResponse).
 * Every certificate is made with the openssl CLI in a temp dir, fresh each run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki, type Issuer } from '../identity/helpers/pki.js';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const ENVOY = 'spiffe://mesh.test/ns/istio-system/sa/ingress';
const SIDECAR = 'spiffe://mesh.test/ns/shop/sa/cart';
const STRANGER = 'spiffe://mesh.test/ns/shop/sa/batch';
const SERVER_ID = 'spiffe://mesh.test/ns/meshwarden/sa/meshwarden';

const POLICY = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: status-for-anyone }
spec:
  action: ALLOW
  rules: [{ to: [{ operation: { paths: ["/status"] } }] }]
`;

interface Pki {
  readonly pki: TestPki;
  readonly ca: Issuer;
  readonly otherCa: Issuer;
}

let world: Pki;
const servers: ServerProcess[] = [];
const clients: CheckClient[] = [];

beforeAll(() => {
  const pki = new TestPki();
  const ca = pki.root('mesh-ca', 'mesh.test');
  const otherCa = pki.root('other-ca', 'mesh.test');
  // the server's certificate names the loopback address the clients dial
  pki.leaf('server', ca, { extra: [`subjectAltName=IP:127.0.0.1,URI:${SERVER_ID}`] });
  pki.leaf('envoy', ca, { uris: [ENVOY] });
  pki.leaf('sidecar', ca, { uris: [SIDECAR] });
  pki.leaf('stranger', ca, { uris: [STRANGER] });
  pki.leaf('no-uri', ca);
  pki.leaf('impostor', otherCa, { uris: [ENVOY] });
  writeFileSync(join(pki.dir, 'policies.yaml'), POLICY);
  world = { pki, ca, otherCa };
});

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((server) => server.stop()));
});

/** A config whose relative paths name files in the PKI dir (resolved from the config's dir). */
function tlsConfig(tls: string): string {
  return ['policies: [policies.yaml]', 'reload: { watch: false }', 'grpc:', `  tls: ${tls}`].join('\n');
}

async function serve(tls: string): Promise<ServerProcess> {
  const server = await startServer({ configText: tlsConfig(tls), configDir: world.pki.dir });
  servers.push(server);
  return server;
}

const file = (name: string) => readFileSync(join(world.pki.dir, name));

/** A client that trusts the mesh CA, presenting `leaf`'s certificate when given one. */
function clientOf(server: ServerProcess, leaf?: string): CheckClient {
  const channel = leaf === undefined
    ? credentials.createSsl(file('mesh-ca.pem'))
    : credentials.createSsl(file('mesh-ca.pem'), file(`${leaf}.key`), file(`${leaf}.pem`));
  const client = new CheckClient(server.grpc, { credentials: channel, deadlineMs: 10_000 });
  clients.push(client);
  return client;
}

const statusCheck = () => httpCheck({ principal: SIDECAR, path: '/status' });

async function refusal(client: CheckClient): Promise<ServiceError> {
  const error = await client.check(statusCheck()).then(
    () => undefined,
    (e: unknown) => e as ServiceError,
  );
  if (error === undefined) throw new Error('the call was answered, but the client should have been refused');
  return error;
}

describe('an mTLS listener with allowedClientIds', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await serve(`{ cert: server.pem, key: server.key, clientCa: mesh-ca.pem, allowedClientIds: ["${ENVOY}", "${SIDECAR}"] }`);
  });

  it('serves an allowed client: a real CheckResponse with the policy decision', async () => {
    const answer = await clientOf(server, 'envoy').check(statusCheck());
    expect(answer.status?.code ?? 0).toBe(status.OK);
    expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow', policy: 'status-for-anyone' });
    expect(await clientOf(server, 'sidecar').health()).toBe('SERVING');
  });

  it('refuses a client without a certificate in the handshake', async () => {
    expect((await refusal(clientOf(server))).code).toBe(status.UNAVAILABLE);
  });

  it('refuses a client whose certificate comes from another CA, even with an allowed SPIFFE ID', async () => {
    expect((await refusal(clientOf(server, 'impostor'))).code).toBe(status.UNAVAILABLE);
  });

  it('ends the calls of a client whose SPIFFE ID is not allowed with PERMISSION_DENIED, and logs it once', async () => {
    const client = clientOf(server, 'stranger');
    for (let i = 0; i < 3; i++) {
      const error = await refusal(client);
      expect(error.code).toBe(status.PERMISSION_DENIED);
      expect(error.details).toMatch(/not allowed/);
    }
    await expect(client.health()).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await server.waitForLog((line) => line['clientId'] === STRANGER);
    expect(server.logs.filter((line) => line['clientId'] === STRANGER)).toHaveLength(1);
  });

  it('refuses a certificate from the right CA that names no SPIFFE ID', async () => {
    expect((await refusal(clientOf(server, 'no-uri'))).code).toBe(status.PERMISSION_DENIED);
  });

  it('refuses a plaintext client', async () => {
    const plain = new CheckClient(server.grpc, { deadlineMs: 10_000 });
    clients.push(plain);
    expect((await refusal(plain)).code).toBe(status.UNAVAILABLE);
  });

  it('keeps serving allowed clients after refusing others', async () => {
    const answer = await clientOf(server, 'sidecar').check(statusCheck());
    expect(structToJson(answer.dynamicMetadata)).toMatchObject({ decision: 'allow' });
  });
});

describe('an mTLS listener without allowedClientIds', () => {
  it('admits every client the CA vouches for, and still refuses the others', async () => {
    const server = await serve('{ cert: server.pem, key: server.key, clientCa: mesh-ca.pem }');
    expect(structToJson((await clientOf(server, 'stranger').check(statusCheck())).dynamicMetadata)).toMatchObject({ decision: 'allow' });
    expect(structToJson((await clientOf(server, 'no-uri').check(statusCheck())).dynamicMetadata)).toMatchObject({ decision: 'allow' });
    expect((await refusal(clientOf(server))).code).toBe(status.UNAVAILABLE);
    expect((await refusal(clientOf(server, 'impostor'))).code).toBe(status.UNAVAILABLE);
  });
});

describe('a TLS listener without a client CA', () => {
  it('serves clients that present no certificate', async () => {
    const server = await serve('{ cert: server.pem, key: server.key }');
    expect(structToJson((await clientOf(server).check(statusCheck())).dynamicMetadata)).toMatchObject({ decision: 'allow' });
  });
});

describe('a TLS listener and ALPN', () => {
  /** Milliseconds until the server hangs up (or refuses the handshake) on a TLS client offering `alpn`. */
  function hangUpAfter(server: ServerProcess, alpn: string[] | undefined): Promise<number> {
    const [host, port] = server.grpc.split(':') as [string, string];
    const started = Date.now();
    return new Promise((resolve) => {
      const socket = tls.connect({ host, port: Number(port), ca: file('mesh-ca.pem'), ...(alpn ? { ALPNProtocols: alpn } : {}) });
      socket.on('error', () => {}); // an ALPN alert in the handshake is a hang-up too
      socket.resume();
      socket.on('close', () => resolve(Date.now() - started));
    });
  }

  it('disconnects at once a client that offers no ALPN or only http/1.1', async () => {
    const server = await serve('{ cert: server.pem, key: server.key }');
    expect(await hangUpAfter(server, undefined)).toBeLessThan(2_000);
    expect(await hangUpAfter(server, ['http/1.1'])).toBeLessThan(2_000);
  });
});

describe('a config with allowedClientIds but no clientCa', () => {
  it('does not start, and says where the problem is', async () => {
    const config = tlsConfig(`{ cert: server.pem, key: server.key, allowedClientIds: ["${ENVOY}"] }`);
    const start = startServer({ configText: config, configDir: world.pki.dir });
    const error = await start.then(() => undefined, (e: unknown) => e as Error);
    // the helper quotes the process's stderr lines as JSON
    const stderr = error?.message.replaceAll('\\"', '"');
    expect(stderr).toMatch(/meshwarden\.yaml:4:\d+: "allowedClientIds" needs "clientCa" alongside it \(grpc\.tls\.allowedClientIds\)/);
  });
});
