/**
 * TLS on the grpc-js listener: TLS and mTLS (a client without a certificate from the client
 * CA is refused in the handshake), ALPN h2 only, admission once per connection, and rotation
 * (new connections get the new material, open ones keep theirs). Certificates are made with
 * the openssl CLI in a temp dir, fresh each run.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/domain/index.js';
import { createAuthorizationService } from '../../../src/check/index.js';
import { decidedBy } from '../../helpers/decided-by.js';
import { startGrpcServer, type GrpcServerOptions, type GrpcTlsMaterial, type RunningGrpcServer, type TlsMaterialSource } from '../../../src/server/grpc/index.js';
import { clientAllowlist } from '../../../src/server/grpc/client-allowlist.js';
import { CheckClient, httpCheck } from '../../helpers/check-client.js';
import { TestPki } from '../../identity/helpers/pki.js';

const ENVOY = 'spiffe://mesh.test/ns/istio-system/sa/ingress';
const STRANGER = 'spiffe://mesh.test/ns/shop/sa/batch';
const ALLOW: Decision = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 };

let pki: TestPki;
const file = (name: string) => readFileSync(join(pki.dir, name));

beforeAll(() => {
  pki = new TestPki();
  const ca = pki.root('mesh-ca', 'mesh.test');
  const otherCa = pki.root('other-ca', 'mesh.test');
  // both server certificates name the loopback address the clients dial
  pki.leaf('server', ca, { extra: ['subjectAltName=IP:127.0.0.1'] });
  pki.leaf('server-next', otherCa, { extra: ['subjectAltName=IP:127.0.0.1'] });
  pki.leaf('envoy', ca, { uris: [ENVOY] });
  pki.leaf('stranger', ca, { uris: [STRANGER] });
  pki.leaf('impostor', otherCa, { uris: [ENVOY] });
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const material = (server: string, clientCa?: string): GrpcTlsMaterial => ({
  cert: file(`${server}.pem`),
  key: file(`${server}.key`),
  ...(clientCa === undefined ? {} : { clientCa: file(`${clientCa}.pem`) }),
});

async function serve(options: Pick<GrpcServerOptions, 'tls' | 'admitClient'>): Promise<RunningGrpcServer> {
  const running = await startGrpcServer({ address: '127.0.0.1:0', transport: 'grpc-js', authorization: createAuthorizationService(decidedBy(() => ALLOW)), initiallyServing: true, ...options });
  cleanups.push(() => running.close(200));
  return running;
}

/** A client on its own connection, trusting `ca`, presenting `leaf`'s certificate when given one. */
function clientOf(server: RunningGrpcServer, ca: string, leaf?: string): CheckClient {
  const channel = leaf === undefined ? credentials.createSsl(file(`${ca}.pem`)) : credentials.createSsl(file(`${ca}.pem`), file(`${leaf}.key`), file(`${leaf}.pem`));
  const client = new CheckClient(server.address, { credentials: channel, deadlineMs: 5_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
  cleanups.push(() => client.close());
  return client;
}

const codeOf = (client: CheckClient) => client.check(httpCheck({ path: '/status' })).then(() => status.OK, (e: ServiceError) => e.code);

/** The server certificate a new TLS connection sees, and whether the server hung up on it. */
function handshake(server: RunningGrpcServer, options: tls.ConnectionOptions): Promise<{ fingerprint?: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port!, rejectUnauthorized: false, ...options });
    socket.on('error', () => resolve({ closed: true })); // an ALPN alert in the handshake is a hang-up too
    socket.resume(); // a FIN from the server is then seen as one
    socket.once('secureConnect', () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.once('close', () => resolve({ fingerprint, closed: true }));
      setTimeout(() => {
        socket.destroy();
        resolve({ fingerprint, closed: false });
      }, 300);
    });
  });
}

const fingerprintOf = (name: string) => new X509Certificate(file(`${name}.pem`)).fingerprint256;

describe('TLS on the grpc-js listener', () => {
  it('serves a client that trusts the server certificate, and offers ALPN h2 only', async () => {
    const server = await serve({ tls: material('server') });
    expect(await codeOf(clientOf(server, 'mesh-ca'))).toBe(status.OK);
    expect(await handshake(server, { ALPNProtocols: ['h2'] })).toEqual({ fingerprint: fingerprintOf('server'), closed: false });
    for (const alpn of [undefined, ['http/1.1']]) expect((await handshake(server, alpn ? { ALPNProtocols: alpn } : {})).closed).toBe(true);
  });

  it('refuses in the handshake a client without a certificate from the client CA (mTLS)', async () => {
    const server = await serve({ tls: material('server', 'mesh-ca') });
    expect(await codeOf(clientOf(server, 'mesh-ca', 'envoy'))).toBe(status.OK);
    expect(await codeOf(clientOf(server, 'mesh-ca'))).toBe(status.UNAVAILABLE);
    expect(await codeOf(clientOf(server, 'mesh-ca', 'impostor'))).toBe(status.UNAVAILABLE);
  });

  it('judges each connection once, and ends every call of a refused client with PERMISSION_DENIED', async () => {
    const allowlist = clientAllowlist([ENVOY]);
    const judged: string[] = [];
    const server = await serve({
      tls: material('server', 'mesh-ca'),
      admitClient: (certificate) => (judged.push(certificate?.subjectaltname ?? 'none'), allowlist(certificate)),
    });
    const envoy = clientOf(server, 'mesh-ca', 'envoy');
    const stranger = clientOf(server, 'mesh-ca', 'stranger');
    for (let i = 0; i < 3; i++) {
      expect(await codeOf(envoy)).toBe(status.OK);
      expect(await codeOf(stranger)).toBe(status.PERMISSION_DENIED);
    }
    expect(await stranger.health().catch((e: ServiceError) => e.code)).toBe(status.PERMISSION_DENIED);
    expect(judged).toEqual([`URI:${ENVOY}`, `URI:${STRANGER}`]);
  });
});

/** Material that changes when the test says so. */
function rotating(first: GrpcTlsMaterial): TlsMaterialSource & { rotate(next: GrpcTlsMaterial): void } {
  const listeners = new Set<(material: GrpcTlsMaterial) => void>();
  const source = {
    current: first,
    onChange(listener: (material: GrpcTlsMaterial) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    rotate(next: GrpcTlsMaterial) {
      source.current = next;
      for (const listener of listeners) listener(next);
    },
  };
  return source;
}

describe('TLS rotation on the grpc-js listener', () => {
  it('gives new connections the new server certificate, and keeps those already open', async () => {
    const source = rotating(material('server'));
    const server = await serve({ tls: source });
    const before = clientOf(server, 'mesh-ca');
    expect(await codeOf(before)).toBe(status.OK);
    source.rotate(material('server-next'));
    expect((await handshake(server, { ALPNProtocols: ['h2'] })).fingerprint).toBe(fingerprintOf('server-next'));
    expect(await codeOf(clientOf(server, 'other-ca'))).toBe(status.OK);
    expect(await codeOf(before)).toBe(status.OK);
  });

  it('verifies new clients against the new client CA', async () => {
    const source = rotating(material('server', 'mesh-ca'));
    const server = await serve({ tls: source });
    expect(await codeOf(clientOf(server, 'mesh-ca', 'envoy'))).toBe(status.OK);
    source.rotate(material('server', 'other-ca'));
    expect(await codeOf(clientOf(server, 'mesh-ca', 'impostor'))).toBe(status.OK);
    expect(await codeOf(clientOf(server, 'mesh-ca', 'envoy'))).toBe(status.UNAVAILABLE);
  });

  it('keeps verifying clients when a new material comes without a client CA', async () => {
    const source = rotating(material('server', 'mesh-ca'));
    const server = await serve({ tls: source });
    source.rotate(material('server'));
    expect(await codeOf(clientOf(server, 'mesh-ca'))).toBe(status.UNAVAILABLE);
    expect(await codeOf(clientOf(server, 'mesh-ca', 'envoy'))).toBe(status.OK);
  });
});
