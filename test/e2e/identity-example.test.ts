/**
 * Shipped identity configurations serve as they are: examples/identity (its bundles load,
 * principals of its trust domains reach the example policies, anything else is refused) and
 * the gateway's OIDC-only section, which names no trust domain at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, structToJson, type Decoded } from '../helpers/check-client.js';
import { checkWith, svid } from '../helpers/identity-fixtures.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makeKey } from '../identity/helpers/tokens.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';

function serving(args: readonly string[]): { server: ServerProcess; client: CheckClient } {
  const state = {} as { server: ServerProcess; client: CheckClient };
  beforeAll(async () => {
    state.server = await startServer({ args });
    state.client = new CheckClient(state.server.grpc);
  });
  afterAll(async () => {
    state.client?.close();
    await state.server?.stop();
  });
  return state;
}

const metadata = (answer: Decoded) => structToJson(answer.dynamicMetadata);
const charge = (extra: { principal?: string; token?: string }) =>
  checkWith({ service: 'payments', method: 'POST', path: '/v1/charges', ...extra });

describe('examples/identity/config.yaml', () => {
  const ctx = serving(['--config', 'examples/identity/config.yaml']);
  it('loads its trust bundles and reports ready', async () => {
    expect(await ctx.client.health('')).toBe('SERVING');
  });

  it('lets a principal of a configured trust domain reach the example policies', async () => {
    expect(metadata(await ctx.client.check(charge({ principal: CHECKOUT })))).toMatchObject({ decision: 'allow', policy: 'payments-api' });
  });

  it('denies a principal of a trust domain it does not know', async () => {
    const answer = await ctx.client.check(charge({ principal: 'spiffe://elsewhere.example/ns/checkout/sa/checkout' }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'untrusted_trust_domain' });
  });

  it('refuses a JWT-SVID that no key of the bundle signed', async () => {
    const token = await svid(makeKey('prod-jwt-1'), { sub: CHECKOUT });
    expect(metadata(await ctx.client.check(charge({ token })))).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_token' });
  });
});

describe('envoy/meshwarden/gateway.yaml: identity with issuers and no trustDomains', () => {
  // no Check carries a token: the issuer's jwksUri is not on loopback and must not be fetched
  const ctx = serving(['--config', 'envoy/meshwarden/gateway.yaml', '--policy', 'examples/policies']);

  it('starts and reports ready', async () => {
    expect(await ctx.client.health('')).toBe('SERVING');
  });

  it('trusts no SPIFFE trust domain', async () => {
    const answer = await ctx.client.check(charge({ principal: CHECKOUT }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'untrusted_trust_domain' });
  });
});
