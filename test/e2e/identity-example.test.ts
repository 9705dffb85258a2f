/**
 * The shipped identity example (examples/identity) serves as is: its bundles load, principals
 * of its trust domains reach the example policies, anything else is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, structToJson, type Decoded } from '../helpers/check-client.js';
import { checkWith, svid } from '../helpers/identity-fixtures.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makeKey } from '../identity/helpers/tokens.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';

let server: ServerProcess;
let client: CheckClient;

beforeAll(async () => {
  server = await startServer({ args: ['--config', 'examples/identity/config.yaml'] });
  client = new CheckClient(server.grpc);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
});

const metadata = (answer: Decoded) => structToJson(answer.dynamicMetadata);
const charge = (extra: { principal?: string; token?: string }) =>
  checkWith({ service: 'payments', method: 'POST', path: '/v1/charges', ...extra });

describe('examples/identity/config.yaml', () => {
  it('loads its trust bundles and reports ready', async () => {
    expect(await client.health('')).toBe('SERVING');
  });

  it('lets a principal of a configured trust domain reach the example policies', async () => {
    expect(metadata(await client.check(charge({ principal: CHECKOUT })))).toMatchObject({ decision: 'allow', policy: 'payments-api' });
  });

  it('denies a principal of a trust domain it does not know', async () => {
    const answer = await client.check(charge({ principal: 'spiffe://elsewhere.example/ns/checkout/sa/checkout' }));
    expect(metadata(answer)).toMatchObject({ decision: 'deny', reason: 'untrusted_trust_domain' });
  });

  it('refuses a JWT-SVID that no key of the bundle signed', async () => {
    const token = await svid(makeKey('prod-jwt-1'), { sub: CHECKOUT });
    expect(metadata(await client.check(charge({ token })))).toMatchObject({ decision: 'unauthenticated', reason: 'invalid_token' });
  });
});
