/**
 * TCP connections through a real Envoy to a real Redis: Envoy's TLS listener requires client
 * SVIDs (made with openssl at test time), its network ext_authz filter asks meshwarden about each
 * connection on its first bytes, and tcp_proxy forwards what meshwarden allows to redis-server.
 * The orders workload reads and writes; the reporting workload's connection is closed before any
 * command reaches Redis. The policies hold HTTP-only fields, read as Istio reads them on TCP: the
 * ALLOW rule for reporting names a method (never matches a connection), and the DENY naming
 * write methods ignores them (denies reporting's every connection).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import { tcpListener } from '../helpers/envoy/tcp-bootstrap.js';
import { describeWithRedis, redisCli, RedisServer, type RedisCliResult } from '../helpers/redis.js';
import { ORDERS, REPORTING, tcpWorld, type Caller, type TcpWorld } from '../helpers/tcp-fixtures.js';

const POLICIES = `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: redis-clients }
spec:
  target: { services: ["redis"] }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${ORDERS}"], namespaces: ["shop"] } }]
      when: [{ key: connection.sni, values: ["redis.data.svc"] }]
    - from: [{ source: { principals: ["${REPORTING}"] } }]
      to: [{ operation: { methods: ["GET"] } }]
---
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: redis-read-only }
spec:
  target: { services: ["redis"] }
  action: DENY
  rules:
    - from: [{ source: { principals: ["${REPORTING}"] } }]
      to: [{ operation: { methods: ["POST", "PUT", "DELETE"] } }]
`;

describeWithRedis('TCP connections to Redis through Envoy', () => {
  describeWithEnvoy.each(TRANSPORTS)('with meshwarden on %s', (transport) => {
    let redis: RedisServer;
    let stack: Stack;
    let certs: TcpWorld;

    beforeAll(async () => {
      certs = tcpWorld();
      redis = await RedisServer.start();
      stack = await startStack({
        transport,
        meshwardenConfig: [
          'policies: ["./policies.yaml"]',
          'identity:',
          '  verifyPeerCertificate: true',
          `  trustDomains: { a.test: { roots: ${JSON.stringify(certs.root.certPath)} } }`,
        ].join('\n'),
        files: { 'policies.yaml': POLICIES },
        envoy: ({ grpc }) => bootstrap({
          listeners: [tcpListener({ name: 'redis', cluster: 'redis', tls: serving(certs) })],
          clusters: [appCluster(redis.port, 'redis'), meshwardenCluster(grpc)],
        }),
      });
    });
    afterAll(async () => {
      await stack?.stop();
      await redis?.stop();
    });

    /** redis-cli over TLS to Envoy's Redis listener, presenting `who`'s SVID (SNI in another case: compared as DNS does). */
    function asWorkload(who: Caller, ...command: string[]): Promise<RedisCliResult> {
      const { cert, key } = certs.files(who);
      const tls = ['--tls', '--sni', 'Redis.Data.svc', '--cert', cert, '--key', key, '--cacert', certs.root.certPath];
      return redisCli(['-h', '127.0.0.1', '-p', String(stack.port('redis')), ...tls, ...command]);
    }

    const tcpDecisions = () => stack.meshwarden.decisions.filter((line) => line['method'] === 'TCP');

    it('lets the orders SVID write and read', async () => {
      expect(await asWorkload('orders', 'SET', 'orders:k', 'v')).toMatchObject({ stdout: 'OK' });
      expect(await asWorkload('orders', 'GET', 'orders:k')).toMatchObject({ stdout: 'v' });
      expect((await redis.cli(['GET', 'orders:k'])).stdout).toBe('v');
    });

    it('closes the reporting connection before any command reaches Redis', async () => {
      const sets = await redis.calls('set');
      const answer = await asWorkload('reporting', 'SET', 'reporting:leaked', 'yes');
      expect(answer).toMatchObject({ status: 1, stdout: '' });
      expect((await redis.cli(['EXISTS', 'reporting:leaked'])).stdout).toBe('0');
      expect(await redis.calls('set')).toBe(sets);
    });

    it('logs both connections (method TCP, no path), counts them, and hands Envoy the decision for its access log', async () => {
      const before = { lines: tcpDecisions().length, allow: await checks('allow', 'policy_allow'), deny: await checks('deny', 'policy_deny') };
      await asWorkload('orders', 'PING');
      await asWorkload('reporting', 'PING');
      await expect.poll(() => tcpDecisions().length).toBe(before.lines + 2);
      const [orders, reporting] = tcpDecisions().slice(before.lines).sort((a, b) => String(a['decision']).localeCompare(String(b['decision'])));
      expect(orders).toMatchObject({ decision: 'allow', reason: 'policy_allow', policy: 'redis-clients', rule: 0, source_principal: ORDERS, destination: 'redis' });
      expect(reporting).toMatchObject({ decision: 'deny', reason: 'policy_deny', policy: 'redis-read-only', rule: 0, source_principal: REPORTING, destination: 'redis' });
      for (const line of [orders, reporting]) expect(line).not.toHaveProperty('path');
      expect(await checks('allow', 'policy_allow')).toBe(before.allow + 1);
      expect(await checks('deny', 'policy_deny')).toBe(before.deny + 1);
      const logged = (await stack.envoy.accessLog(5)).filter((line) => line['decision_id'] === orders!['decision_id'] || line['decision_id'] === reporting!['decision_id']);
      expect(logged).toEqual(expect.arrayContaining([
        expect.objectContaining({ decision: 'allow', policy: 'redis-clients', upstream: `127.0.0.1:${redis.port}` }),
        expect.objectContaining({ decision: 'deny', reason: 'policy_deny', policy: 'redis-read-only' }),
      ]));
    });

    /** meshwarden_checks_total{decision, reason} from its /metrics. */
    async function checks(decision: string, reason: string): Promise<number> {
      const line = (await stack.metrics()).split('\n').find((l) => l.startsWith(`meshwarden_checks_total{decision="${decision}",reason="${reason}"}`));
      return Number(line?.split(' ')[1] ?? 0);
    }
  });
});

/** Envoy's Redis listener: its serving SVID, client SVIDs of a.test required. */
function serving(certs: TcpWorld) {
  const { cert, key } = certs.files('redis');
  return { certificateChain: cert, privateKey: key, spiffeTrustDomains: [{ name: 'a.test', bundle: certs.root.certPath }] };
}
