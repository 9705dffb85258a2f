/**
 * The edge, in the shape of envoy/gateway.yaml: Envoy's jwt_authn verifies the end user's JWT
 * (keys from `local_jwks` here, the IdP's JWKS endpoint in the shipped file) and hands the
 * verified claims to meshwarden as metadata_context; meshwarden decides on those claims
 * (`identity.jwtAuthnMetadata`) without verifying the forwarded token a second time.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IDP, API_AUDIENCE, createIdentityWorld, userToken, type IdentityWorld } from '../helpers/identity-fixtures.js';
import { JWT_AUTHN, appCluster, bootstrap, extAuthzFilter, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send, type Answer, type ClientTls } from '../helpers/envoy/http-client.js';
import { MeshPki } from '../helpers/envoy/mesh-pki.js';
import { TRANSPORTS, startStack, type Stack } from '../helpers/envoy/stack.js';
import { makeKey, publicJwk, type SigningKey } from '../identity/helpers/tokens.js';

const ROUTES = [
  { name: 'health', match: { path: '/healthz' }, authzDisabled: true },
  { name: 'profile', match: { prefix: '/' }, service: 'profile', namespace: 'prod' },
];

/** gateway.yaml's jwt_authn, with the keys inline instead of fetched from the IdP. */
function jwtAuthn(idpKey: SigningKey): Record<string, unknown> {
  return {
    name: JWT_AUTHN,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: {
        idp: {
          issuer: IDP,
          audiences: [API_AUDIENCE],
          local_jwks: { inline_string: JSON.stringify({ keys: [publicJwk(idpKey, { use: 'sig', alg: idpKey.alg })] }) },
          clock_skew_seconds: 30,
          forward: true,
          payload_in_metadata: 'verified_claims',
        },
      },
      rules: [
        { match: { path: '/healthz' } },
        { match: { prefix: '/' }, requires: { requires_any: { requirements: [{ provider_name: 'idp' }, { allow_missing: {} }] } } },
      ],
    },
  };
}

describeWithEnvoy.each(TRANSPORTS)('the edge: Envoy verifies the JWT, meshwarden decides on its claims (meshwarden on %s)', (transport) => {
  let world: IdentityWorld;
  let stack: Stack;
  let tls: ClientTls;

  beforeAll(async () => {
    world = await createIdentityWorld();
    const mesh = new MeshPki(world.rootA);
    tls = mesh.anonymous();
    stack = await startStack({
      transport,
      meshwardenConfig: `${world.configText()}  jwtAuthnMetadata: { enabled: true, filter: ${JWT_AUTHN} }\n`,
      configDir: world.dir,
      envoy: ({ grpc, upstream }) => bootstrap({
        listeners: [httpListener({
          name: 'edge',
          routes: ROUTES,
          tls: mesh.serving(),
          filters: [jwtAuthn(world.idpKey), extAuthzFilter({ includePeerCertificate: false, metadataContextNamespaces: [JWT_AUTHN] })],
        })],
        clusters: [appCluster(upstream), meshwardenCluster(grpc)],
      }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await world?.close();
  });

  const call = (path: string, token?: string, method = 'GET') =>
    send(stack.port('edge'), path, { tls, method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  async function decisionFor(answer: Answer): Promise<Record<string, unknown>> {
    const body = answer.json();
    const requestId = answer.status === 200 ? (body['headers'] as Record<string, string>)['x-request-id'] : body['request_id'];
    const line = () => stack.meshwarden.decisions.find((l) => l['request_id'] === requestId);
    await expect.poll(line).toBeTruthy();
    return line()!;
  }

  /** Sends and asserts that neither meshwarden nor the workload heard of the request. */
  async function stoppedByEnvoy(path: string, token?: string): Promise<Answer> {
    const before = { upstream: stack.upstream.requests.length, decisions: stack.meshwarden.decisions.length };
    const answer = await call(path, token);
    expect(stack.upstream.requests).toHaveLength(before.upstream);
    expect(stack.meshwarden.decisions).toHaveLength(before.decisions);
    return answer;
  }

  it('allows an end user whose verified claims the policy asks for, without meshwarden fetching any key', async () => {
    const token = await userToken(world.idpKey, { scope: ['orders:read', 'profile:read'] });
    const answer = await call('/me', token);
    expect(answer.status).toBe(200);
    expect(await decisionFor(answer)).toMatchObject({ decision: 'allow', policy: 'profile-by-claims', request_principal: `${IDP}/alice` });
    // forward: true keeps the token for the workload; meshwarden took the claims from metadata_context
    expect((answer.json()['headers'] as Record<string, string>)['authorization']).toBe(`Bearer ${token}`);
    expect(world.jwks.requests).toBe(0);
  });

  it('decides on nested claims: an admin may, a viewer may not', async () => {
    const admin = await userToken(world.idpKey, { org: { name: 'acme', role: 'admin' } });
    const viewer = await userToken(world.idpKey, { org: { name: 'acme', role: 'viewer' } });
    expect((await call('/admin/users/7', admin, 'DELETE')).status).toBe(200);
    const denied = await call('/admin/users/7', viewer, 'DELETE');
    expect(denied.status).toBe(403);
    expect(await decisionFor(denied)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
  });

  it('denies (403, meshwarden) a verified end user without the claim', async () => {
    const answer = await call('/me', await userToken(world.idpKey, { scope: ['orders:read'] }));
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({ error: 'forbidden' });
  });

  it('lets a request without a token on to meshwarden, whose policy denies it', async () => {
    const answer = await call('/me');
    expect(answer.status).toBe(403);
    expect(await decisionFor(answer)).toMatchObject({ decision: 'deny', reason: 'default_deny' });
  });

  // jwt_authn's own answers: 401 for a bad signature or an expired token, 403 for a wrong
  // audience (Envoy's JwtAudienceNotAllowed), with Envoy's text body, not meshwarden's JSON.
  it.each([
    ['a bad signature', 401, () => userToken(makeKey('idp-1', 'RS256'), { scope: ['profile:read'] })],
    ['an expired token', 401, () => userToken(world.idpKey, { scope: ['profile:read'], iat: nowS() - 1200, exp: nowS() - 600 })],
    ['another audience', 403, () => userToken(world.idpKey, { scope: ['profile:read'], aud: 'another-api' })],
  ] as const)('refuses a token with %s itself (%i): meshwarden and the workload never see it', async (_, status, make) => {
    const answer = await stoppedByEnvoy('/me', await make());
    expect(answer.status).toBe(status);
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm=.*error="invalid_token"/);
    expect(answer.headers['content-type']).not.toBe('application/json');
  });

  it('serves /healthz with no token and no Check', async () => {
    const before = stack.meshwarden.decisions.length;
    const answer = await call('/healthz');
    expect(answer.status).toBe(200);
    expect(stack.meshwarden.decisions).toHaveLength(before);
  });
});

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}
