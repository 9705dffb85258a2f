/**
 * A hostile corpus of TCP connection Checks (no `request.http`, as Envoy's network ext_authz
 * filter sends them) against the real server, on both transports: addresses missing, an SNI
 * forged toward an allowing policy or spelled past a DENY, no principal, a principal its
 * certificate does not carry, an HTTP attribute present but empty. Each is denied or refused 400
 * with its reason, never allowed, never a crash; an honest connection is allowed afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCheckRequest, type AttributeContextMessage, type PeerMessage } from '../../src/envoy/index.js';
import { rawClient, structToJson, type RawClient } from '../helpers/check-client.js';
import { decodeOfficial } from '../helpers/official-protos.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { TRANSPORTS } from '../helpers/transports.js';
import { urlEncodedPem } from '../identity/helpers/pki.js';
import { ORDERS, REDIS_ID, REPORTING, tcpWorld } from '../helpers/tcp-fixtures.js';

const PAYMENTS = 'spiffe://a.test/ns/pay/sa/payments';

/**
 * orders may reach redis; the rule for anyone names a method, so it never matches a connection;
 * a destination named only by its SNI `cache.data.svc` lets anyone on; an SNI `evil.example` is denied.
 */
const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: redis-clients }
spec:
  target: { services: ["redis"] }
  rules:
    - from: [{ source: { principals: ["${ORDERS}"] } }]
    - to: [{ operation: { methods: ["GET"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: cache-by-sni }
spec:
  target: { services: ["cache.data.svc"] }
  rules: [{}]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: no-evil-sni }
spec:
  action: DENY
  rules:
    - when: [{ key: connection.sni, values: ["evil.example"] }]
`;

const OK = 0;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;
const INVALID_ARGUMENT = 3;

interface Outcome {
  readonly code: number;
  readonly reason?: unknown;
}

interface HostileConnection {
  readonly name: string;
  readonly attributes: (certs: Certs) => AttributeContextMessage;
  readonly expected: Outcome;
}

interface Certs {
  readonly orders: string;
  readonly reporting: string;
}

const socket = (address: string, portValue: number) => ({ socketAddress: { address, portValue } });
const caller = (certs: Certs, extra: PeerMessage = {}): PeerMessage => ({ address: socket('10.1.0.5', 40000), principal: ORDERS, certificate: certs.orders, ...extra });
const redis: PeerMessage = { address: socket('10.2.0.9', 6379), principal: REDIS_ID };
const honest = (certs: Certs): AttributeContextMessage => ({ source: caller(certs), destination: redis, tlsSession: { sni: 'redis.data.svc' } });

const CORPUS: readonly HostileConnection[] = [
  { name: 'no attributes at all', attributes: () => ({}), expected: { code: INVALID_ARGUMENT, reason: 'missing_connection_attributes' } },
  { name: 'no source address', attributes: (c) => ({ ...honest(c), source: { principal: ORDERS, certificate: c.orders } }), expected: { code: INVALID_ARGUMENT, reason: 'missing_connection_attributes' } },
  { name: 'an empty source address', attributes: (c) => ({ ...honest(c), source: caller(c, { address: socket('', 40000) }) }), expected: { code: INVALID_ARGUMENT, reason: 'missing_connection_attributes' } },
  { name: 'no destination', attributes: (c) => ({ source: caller(c) }), expected: { code: INVALID_ARGUMENT, reason: 'missing_connection_attributes' } },
  { name: 'no principal (plain TCP)', attributes: (c) => ({ ...honest(c), source: { address: socket('10.1.0.5', 40000) } }), expected: { code: PERMISSION_DENIED, reason: 'default_deny' } },
  { name: 'a principal its certificate does not carry', attributes: (c) => ({ ...honest(c), source: caller(c, { certificate: c.reporting }) }), expected: { code: UNAUTHENTICATED, reason: 'invalid_certificate' } },
  { name: 'a principal without the certificate Envoy was told to send', attributes: (c) => ({ ...honest(c), source: caller(c, { certificate: '' }) }), expected: { code: UNAUTHENTICATED, reason: 'invalid_certificate' } },
  { name: 'a principal that is not a SPIFFE ID', attributes: (c) => ({ ...honest(c), source: caller(c, { principal: 'orders' }) }), expected: { code: UNAUTHENTICATED, reason: 'invalid_principal' } },
  { name: 'another workload, allowed only by a rule that names a method', attributes: (c) => ({ ...honest(c), source: caller(c, { principal: REPORTING, certificate: c.reporting }) }), expected: { code: PERMISSION_DENIED, reason: 'default_deny' } },
  { name: 'an SNI forged toward the policy that allows anyone to cache.data.svc', attributes: (c) => ({ ...honest(c), destination: { address: socket('10.3.0.1', 8443), principal: PAYMENTS }, tlsSession: { sni: 'cache.data.svc' } }), expected: { code: PERMISSION_DENIED, reason: 'default_deny' } },
  { name: 'a denied SNI in another case, with a trailing dot', attributes: (c) => ({ ...honest(c), tlsSession: { sni: 'EVIL.Example.' } }), expected: { code: PERMISSION_DENIED, reason: 'policy_deny' } },
  { name: 'an SNI with a NUL byte', attributes: (c) => ({ ...honest(c), tlsSession: { sni: 'redis.data.svc\u0000.evil' } }), expected: { code: INVALID_ARGUMENT, reason: 'invalid_sni' } },
  { name: 'an SNI with a port', attributes: (c) => ({ ...honest(c), tlsSession: { sni: 'redis.data.svc:6379' } }), expected: { code: INVALID_ARGUMENT, reason: 'invalid_sni' } },
  { name: 'an SNI of 4 KiB', attributes: (c) => ({ ...honest(c), tlsSession: { sni: `${'a'.repeat(63)}.`.repeat(64) } }), expected: { code: INVALID_ARGUMENT, reason: 'invalid_sni' } },
  { name: 'a destination port past 65535', attributes: (c) => ({ ...honest(c), destination: { address: socket('10.2.0.9', 70000) } }), expected: { code: PERMISSION_DENIED, reason: 'default_deny' } },
  { name: 'a source address that is not an IP', attributes: (c) => ({ ...honest(c), source: caller(c, { address: socket('not-an-ip', 1) }) }), expected: { code: INVALID_ARGUMENT, reason: 'missing_connection_attributes' } },
  { name: 'an http attribute present but empty', attributes: (c) => ({ ...honest(c), request: { http: {} } }), expected: { code: INVALID_ARGUMENT, reason: 'missing_http_attributes' } },
];

function check(client: RawClient, attributes: AttributeContextMessage): Promise<Outcome> {
  const bytes = Buffer.from(encodeCheckRequest({ attributes }));
  return new Promise((resolve, reject) => {
    client.Check(bytes, { deadline: Date.now() + 10_000 }, (error, answer) => {
      if (error) return reject(error);
      const decoded = decodeOfficial('envoy.service.auth.v3.CheckResponse', answer!) as { status?: { code?: number }; dynamicMetadata?: unknown };
      resolve({ code: decoded.status?.code ?? OK, reason: structToJson(decoded.dynamicMetadata)['reason'] });
    });
  });
}

describe.each(TRANSPORTS)('a hostile corpus of connection Checks (meshwarden on %s)', (transport) => {
  let server: ServerProcess;
  let client: RawClient;
  let certs: Certs;

  beforeAll(async () => {
    const world = tcpWorld();
    certs = { orders: urlEncodedPem(world.pem.orders), reporting: urlEncodedPem(world.pem.reporting) };
    const dir = tempDir();
    writeFileSync(join(dir, 'policies.yaml'), POLICIES);
    writeFileSync(join(dir, 'root-a.pem'), readFileSync(world.root.certPath));
    server = await startServer({
      configDir: dir,
      configText: [
        `policies: ["${join(dir, 'policies.yaml')}"]`,
        `grpc: { transport: ${transport} }`,
        `identity: { verifyPeerCertificate: true, trustDomains: { a.test: { roots: "${join(dir, 'root-a.pem')}" } } }`,
        'decisionLog: { output: stdout, allowSampleRate: 1 }',
      ].join('\n'),
    });
    client = rawClient(server.grpc);
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it.each(CORPUS.map((hostile) => [hostile.name, hostile] as const))('%s: answered with its reason', async (_name, hostile) => {
    expect(await check(client, hostile.attributes(certs))).toEqual(hostile.expected);
  });

  it('still allows an honest connection afterwards, and logged every one as a connection', async () => {
    expect(await check(client, honest(certs))).toEqual({ code: OK, reason: 'policy_allow' });
    await expect.poll(() => server.decisions.length).toBeGreaterThanOrEqual(CORPUS.length + 1);
    const decided = server.decisions.filter((line) => line['reason'] === 'policy_allow' || line['reason'] === 'default_deny');
    expect(decided.every((line) => line['method'] === 'TCP' && line['path'] === undefined)).toBe(true);
    expect(server.child.exitCode).toBeNull();
  });
});
