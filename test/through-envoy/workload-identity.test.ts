/**
 * Workload identity end to end: callers present X.509-SVIDs (openssl, made at test time) to
 * Envoy over mTLS; Envoy checks them against the trust domain's root and sends the peer
 * certificate (`include_peer_certificate`); meshwarden verifies it again against its own
 * trust bundles (`identity.verifyPeerCertificate`) before policy sees the SPIFFE ID. A
 * JWT-SVID in `authorization` is the same caller, verified with the trust domain's keys.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BILLING, CART, PAY_B, createIdentityWorld, svid, type IdentityWorld } from '../helpers/identity-fixtures.js';
import { appCluster, bootstrap, extAuthzFilter, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send, type Answer, type ClientTls } from '../helpers/envoy/http-client.js';
import { MeshPki } from '../helpers/envoy/mesh-pki.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import { makeKey } from '../identity/helpers/tokens.js';

const ROUTES = [{ name: 'orders', match: { prefix: '/orders/' }, service: 'orders' }];
const C_CART = 'spiffe://c.test/ns/shop/sa/cart';

interface Callers {
  readonly cart: ClientTls;
  readonly billing: ClientTls;
  readonly payB: ClientTls;
  /** Signed by a root that claims a.test but is not a.test's. */
  readonly impostorCart: ClientTls;
  readonly cCart: ClientTls;
  readonly anonymous: ClientTls;
}

describeWithEnvoy.each(TRANSPORTS)('workload identity through Envoy (meshwarden on %s)', (transport) => {
  let world: IdentityWorld;
  let stack: Stack;
  let callers: Callers;

  beforeAll(async () => {
    world = await createIdentityWorld();
    const mesh = new MeshPki(world.rootA);
    const impostorA = mesh.root('impostor-a', 'a.test');
    const rootC = mesh.root('root-c', 'c.test');
    callers = {
      cart: mesh.svid('cart', CART, world.rootA),
      billing: mesh.svid('billing', BILLING, world.rootA),
      payB: mesh.svid('pay-b', PAY_B, world.rootB),
      impostorCart: mesh.svid('impostor-cart', CART, impostorA),
      cCart: mesh.svid('c-cart', C_CART, rootC),
      anonymous: mesh.anonymous(),
    };
    // A laxer Envoy (think: a misconfigured or compromised sidecar) accepts more than meshwarden trusts.
    const laxBundleA = join(mesh.pki.dir, 'lax-a.pem');
    writeFileSync(laxBundleA, world.rootA.pem + impostorA.pem);
    const peerCertificate = [extAuthzFilter({ includePeerCertificate: true })];
    stack = await startStack({
      transport,
      meshwardenConfig: world.configText().replace('identity:\n', 'identity:\n  verifyPeerCertificate: true\n'),
      configDir: world.dir,
      envoy: ({ grpc, upstream }) => bootstrap({
        listeners: [
          httpListener({ name: 'mtls', routes: ROUTES, filters: peerCertificate, tls: mesh.serving([world.rootA]) }),
          httpListener({
            name: 'lax',
            routes: ROUTES,
            filters: peerCertificate,
            tls: {
              ...mesh.serving(),
              spiffeTrustDomains: [{ name: 'a.test', bundle: laxBundleA }, { name: 'c.test', bundle: rootC.certPath }],
            },
          }),
          httpListener({ name: 'plain', routes: ROUTES }),
        ],
        clusters: [appCluster(upstream), meshwardenCluster(grpc)],
      }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const principalSeen = (answer: Answer) => (answer.json()['headers'] as Record<string, string>)['x-meshwarden-principal'];

  /** meshwarden's decision line behind a refusal (its body names the request id). */
  async function decisionFor(answer: Answer): Promise<Record<string, unknown>> {
    const requestId = answer.json()['request_id'];
    const line = () => stack.meshwarden.decisions.find((l) => l['request_id'] === requestId);
    await expect.poll(line).toBeTruthy();
    return line()!;
  }

  /** Sends and asserts the workload saw nothing. */
  async function kept(listener: string, tls: ClientTls | undefined, headers: Record<string, string> = {}): Promise<Answer> {
    const before = stack.upstream.requests.length;
    const answer = await send(stack.port(listener), '/orders/42', { ...(tls ? { tls } : {}), headers });
    expect(stack.upstream.requests).toHaveLength(before);
    return answer;
  }

  /** Expects the TLS handshake (or the first read after it) to fail, with nothing reaching meshwarden or the workload. */
  async function refusedAtHandshake(tls: ClientTls): Promise<void> {
    const before = { upstream: stack.upstream.requests.length, decisions: stack.meshwarden.decisions.length };
    await expect(send(stack.port('mtls'), '/orders/42', { tls })).rejects.toThrow();
    expect(stack.upstream.requests).toHaveLength(before.upstream);
    expect(stack.meshwarden.decisions).toHaveLength(before.decisions);
  }

  describe('over mTLS', () => {
    it('lets a permitted SVID through, with its SPIFFE ID for the workload', async () => {
      const answer = await send(stack.port('mtls'), '/orders/42', { tls: callers.cart });
      expect(answer.status).toBe(200);
      expect(principalSeen(answer)).toBe(CART);
    });

    it('denies an SVID of the trust domain that the policy does not name', async () => {
      const answer = await kept('mtls', callers.billing);
      expect(answer.status).toBe(403);
      expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny', source_principal: BILLING });
    });

    it('refuses at the handshake an SVID of another trust domain, a certificate from an impostor root, and no certificate', async () => {
      await refusedAtHandshake(callers.payB);
      await refusedAtHandshake(callers.impostorCart);
      await refusedAtHandshake(callers.anonymous);
    });
  });

  describe('behind an Envoy that accepts more than meshwarden trusts', () => {
    it('denies a certificate of a trust domain meshwarden does not know', async () => {
      const answer = await kept('lax', callers.cCart);
      expect(answer.status).toBe(403);
      expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', reason: 'untrusted_trust_domain' });
    });

    it('refuses (401, no Bearer challenge) a certificate naming a permitted SPIFFE ID but not chained to the trust domain\'s root', async () => {
      const answer = await kept('lax', callers.impostorCart);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBeUndefined();
      expect(await decisionFor(answer)).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_certificate' });
    });

    it('still lets the permitted SVID through', async () => {
      const answer = await send(stack.port('lax'), '/orders/42', { tls: callers.cart });
      expect(answer.status).toBe(200);
      expect(principalSeen(answer)).toBe(CART);
    });
  });

  describe('with a JWT-SVID in authorization', () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    it('lets a permitted JWT-SVID through, with its SPIFFE ID for the workload', async () => {
      const answer = await send(stack.port('plain'), '/orders/42', { headers: bearer(await svid(world.keyA)) });
      expect(answer.status).toBe(200);
      expect(principalSeen(answer)).toBe(CART);
    });

    it('denies a valid JWT-SVID of a workload the policy does not name', async () => {
      const answer = await kept('plain', undefined, bearer(await svid(world.keyA, { sub: BILLING })));
      expect(answer.status).toBe(403);
      expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
    });

    it('answers 401 to a JWT-SVID of another trust domain signed with a.test\'s key, and to one signed by no trust domain', async () => {
      for (const token of [await svid(world.keyA, { sub: PAY_B }), await svid(makeKey('a1'))]) {
        const answer = await kept('plain', undefined, bearer(token));
        expect(answer.status).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      }
    });

    it('is one caller with an mTLS SVID naming the same workload, and a conflict with one naming another', async () => {
      const same = await send(stack.port('mtls'), '/orders/42', { tls: callers.cart, headers: bearer(await svid(world.keyA)) });
      expect(same.status).toBe(200);
      const conflict = await kept('mtls', callers.billing, bearer(await svid(world.keyA)));
      expect(conflict.status).toBe(403);
      expect(await decisionFor(conflict)).toMatchObject({ reason: 'identity_conflict' });
    });
  });
});
