/**
 * What the Workload-API-only e2e tests share: a mesh whose every certificate and key reaches
 * meshwarden through a TEST DOUBLE of the SPIRE agent (grpc-js on the official proto, not
 * SPIRE), the config that names no file but the policies, and an Envoy-like client: one HTTP/2
 * connection over mTLS (Envoy's own SVID), whose Check calls and peer certificate the test
 * reads, so a test can tell an old connection from a new handshake.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { structToJson, type Decoded } from '../helpers/check-client.js';
import { grpcFrame } from '../helpers/grpc-frame.js';
import { decodeOfficial, encodeOfficial } from '../helpers/official-protos.js';
import { TestPki, urlEncodedPem, type Issuer } from '../identity/helpers/pki.js';
import { makeKey, publicJwk, signToken, type SigningKey } from '../identity/helpers/tokens.js';
import { WorkloadApiDouble } from '../identity/helpers/workload-api-double.js';
import { issueSvid, type IssuedSvid } from '../identity/helpers/workload-svids.js';
import { httpCheck } from '../helpers/check-client.js';

export const TD = 'mesh.test';
export const MESHWARDEN = `spiffe://${TD}/ns/meshwarden/sa/meshwarden`;
export const ENVOY = `spiffe://${TD}/ns/shop/sa/envoy`;
export const CART = `spiffe://${TD}/ns/shop/sa/cart`;
export const BATCH = `spiffe://${TD}/ns/shop/sa/batch`;

/** orders: `principal` only (default: the cart workload), by its X.509 or JWT SVID. */
export function ordersPolicy(principal = CART): string {
  return `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: orders-from-one-workload }
spec:
  target: { services: ["orders"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${principal}"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/orders/{*}"] } }]
`;
}

/** meshwarden's config: policies.yaml, the Workload API at `socket`, its SVID on the listener for `client` only; no bundle or certificate file. */
export function workloadApiOnlyConfig(socket: string, client: string): string {
  return [
    'policies: [policies.yaml]',
    'defaultAction: DENY',
    'reload: { watch: false }',
    'grpc:',
    `  tls: { fromWorkloadApi: true, allowedClientIds: ["${client}"] }`,
    'identity:',
    `  workloadApi: { socket: "${socket}" }`,
    '  verifyPeerCertificate: true',
    '  jwtSvid: { audiences: [meshwarden] }',
  ].join('\n');
}

export interface SpireMesh {
  readonly dir: string;
  readonly pki: TestPki;
  readonly root: Issuer;
  readonly agent: WorkloadApiDouble;
  /** Every SVID made so far, by name: meshwarden's (`meshwarden-1`, …), Envoy's, the workloads'. */
  readonly svids: Map<string, IssuedSvid>;
  issue(name: string, spiffeId: string): IssuedSvid;
  /** The agent's current X.509 and JWT bundles: the root, and these JWT-SVID keys. */
  sendBundles(jwtKeys: readonly SigningKey[]): void;
  /** meshwarden's config: policies, Workload API, SVID on the listener; no bundle or certificate file. */
  readonly configText: string;
}

export function spireMesh(): SpireMesh {
  const pki = new TestPki();
  const root = pki.root('mesh-root', TD);
  const agent = new WorkloadApiDouble();
  writeFileSync(join(pki.dir, 'policies.yaml'), ordersPolicy());
  const svids = new Map<string, IssuedSvid>();
  const issue = (name: string, spiffeId: string) => {
    const svid = issueSvid(pki, root, name, spiffeId);
    svids.set(name, svid);
    return svid;
  };
  const sendBundles = (jwtKeys: readonly SigningKey[]) => {
    agent.send('x509', { [`spiffe://${TD}`]: new X509Certificate(root.pem).raw });
    agent.send('jwt', { [`spiffe://${TD}`]: Buffer.from(JSON.stringify({ keys: jwtKeys.map((key) => publicJwk(key)) })) });
  };
  const configText = workloadApiOnlyConfig(agent.target, ENVOY);
  return { dir: pki.dir, pki, root, agent, svids, issue, sendBundles, configText };
}

export { makeKey };

/** A CheckRequest as Envoy sends it for a caller with an X.509-SVID (peer certificate included) and/or a JWT-SVID. */
export function ordersCheck(caller: { principal?: string; certificatePem?: string; token?: string }): Record<string, unknown> {
  const request = httpCheck({
    service: 'orders',
    path: '/orders/42',
    ...(caller.principal ? { principal: caller.principal } : {}),
    headers: caller.token ? { authorization: `Bearer ${caller.token}` } : {},
  }) as { attributes: { source: Record<string, unknown> } };
  if (caller.certificatePem) request.attributes.source['certificate'] = urlEncodedPem(caller.certificatePem);
  return request;
}

export function jwtSvid(key: SigningKey, sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signToken(key, { sub, aud: ['meshwarden'], iat: now, exp: now + 600 }, { typ: 'JWT' });
}

export const decisionOf = (answer: Decoded) => structToJson(answer.dynamicMetadata)['decision'];

/** What a client presents and trusts: its SVID and key, and the bundle that meshwarden's SVID chains to (PEM). */
export interface ClientTls {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** `name`'s SVID in the mesh, as a client presents it. */
export function clientTls(mesh: SpireMesh, name: string): ClientTls {
  return { ca: mesh.root.pem, cert: mesh.svids.get(name)!.pem, key: readFileSync(join(mesh.pki.dir, `${name}.key`)) };
}

/**
 * One mTLS HTTP/2 connection to meshwarden's gRPC listener, presenting `client`'s SVID and
 * checking meshwarden's by its SPIFFE ID (as Envoy's SAN matcher does; the name dialled is not
 * in an SVID).
 */
export class EnvoyLikeConnection {
  readonly #session: http2.ClientHttp2Session;

  private constructor(session: http2.ClientHttp2Session) {
    this.#session = session;
  }

  static open(address: string, client: ClientTls, serverId = MESHWARDEN): Promise<EnvoyLikeConnection> {
    const session = http2.connect(`https://${address}`, {
      ...client,
      checkServerIdentity: (_host, certificate) =>
        certificate.subjectaltname?.split(', ').includes(`URI:${serverId}`) ? undefined : new Error(`not ${serverId}: ${certificate.subjectaltname}`),
    });
    return new Promise((resolve, reject) => {
      session.once('connect', () => resolve(new EnvoyLikeConnection(session)));
      session.once('error', reject);
    });
  }

  /** The serial number of the certificate meshwarden presented in this connection's handshake. */
  get serverSerial(): string {
    return (this.#session.socket as TLSSocket).getPeerCertificate().serialNumber;
  }

  get closed(): boolean {
    return this.#session.closed || this.#session.destroyed;
  }

  check(request: Record<string, unknown>): Promise<Decoded> {
    const stream = this.#session.request({
      ':method': 'POST',
      ':path': '/envoy.service.auth.v3.Authorization/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.end(grpcFrame(encodeOfficial('envoy.service.auth.v3.CheckRequest', request)));
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return new Promise((resolve, reject) => {
      stream.on('error', reject);
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        if (body.length < 5) return reject(new Error('no CheckResponse on the stream'));
        resolve(decodeOfficial('envoy.service.auth.v3.CheckResponse', body.subarray(5)) as Decoded);
      });
    });
  }

  close(): void {
    this.#session.close();
  }
}

/** Whether a TLS client without a certificate, or with one from another root, gets any answer. */
export function openFails(open: () => Promise<EnvoyLikeConnection>): Promise<boolean> {
  return open().then(
    async (connection) => {
      // TLS 1.3: a refused client certificate shows on the first exchange, not in connect
      const answered = await connection.check(ordersCheck({})).then(() => true, () => false);
      connection.close();
      return !answered;
    },
    () => true,
  );
}
