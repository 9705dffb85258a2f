/**
 * A federated trust domain's bundle endpoint turned hostile (SPIFFE Federation, https_web), on
 * 127.0.0.1 with a test CA: bundles crafted to cost the thread that answers Checks, refresh
 * hints and sequence numbers of every wrong kind, an answer dripped a byte at a time, a gzip
 * bomb. Each: refused or bounded, the last good bundle kept and verifying, nothing thrown.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BundleEndpointTiming, IdentityResolver, ReloadErrorEvent } from '../../src/identity/index.js';
import { fetchBundleText } from '../../src/identity/bundle-endpoint/fetch-bundle.js';
import { accessRequest, bearer } from './helpers/request.js';
import { BundleEndpointServer, type Answer } from './helpers/bundle-endpoint-server.js';
import { x509BundleKey, type Issuer } from './helpers/pki.js';
import { makeKey, publicJwk, signToken } from './helpers/tokens.js';
import { buildWorld, outcome, A, B, WORKLOAD_B, type World } from './helpers/world.js';

const BY_HAND: BundleEndpointTiming = { minRefreshMs: 3_600_000, maxRefreshMs: 3_600_000, firstRetryMs: 3_600_000 };

let world: World;
let serverCa: Issuer;
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  world = buildWorld();
  serverCa = world.pki.root('hostile-endpoint-ca', 'hostile-endpoint-ca.test');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** b.test fed by an endpoint that first answers a good bundle (sequence 5), then `hostile`. */
async function afterGood(hostile: Answer): Promise<{ resolver: IdentityResolver; errors: ReloadErrorEvent[] }> {
  const server = new BundleEndpointServer(world.pki, serverCa, `hostile-${cleanups.length}-${Date.now()}`);
  await server.start();
  cleanups.push(() => server.stop());
  server.answer({ body: JSON.stringify(bundle({ spiffe_sequence: 5 })) });
  const bundleEndpoint = { url: server.url, profile: 'https_web' as const, caFile: serverCa.certPath };
  const resolver = await world.resolver({ trustDomains: { [A]: { bundle: 'a.json' }, [B]: { bundleEndpoint } } }, { bundleEndpointTiming: BY_HAND });
  cleanups.push(() => resolver.close());
  expect(resolver.ready).toBe(true);
  const errors: ReloadErrorEvent[] = [];
  resolver.on('error', (event) => errors.push(event));
  server.answer(hostile);
  await resolver.reload();
  return { resolver, errors };
}

function bundle(extra: Record<string, unknown> = {}, keys: unknown[] = [publicJwk(world.keyB, { use: 'jwt-svid' })]): Record<string, unknown> {
  return { keys: [x509BundleKey(world.rootB.pem), ...keys], ...extra };
}

async function stillVerifies(resolver: IdentityResolver): Promise<void> {
  const token = await signToken(world.keyB, { sub: WORKLOAD_B, aud: 'meshwarden', exp: world.nowS + 300 });
  expect(await outcome(resolver, accessRequest({ headers: bearer(token) }))).toBe('OK');
  expect(resolver.ready).toBe(true);
}

function rsaJwk(bits: number): Record<string, unknown> {
  return generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
}

describe('a bundle built to cost the serving thread', () => {
  it('refuses a bundle listing more than 256 keys before importing any, and keeps the last good one', async () => {
    const jwk = publicJwk(makeKey('many'), { use: 'jwt-svid' });
    const many = Array.from({ length: 256 }, (_, i) => ({ ...jwk, kid: `k${i}` })); // and the x509 authority: 257
    // before: all imported (6,600 such keys fit in the 1 MiB limit: 400 ms of the thread), and taken
    const { resolver, errors } = await afterGood({ body: JSON.stringify(bundle({ spiffe_sequence: 6 }, many)) });
    expect(errors).toEqual([expect.objectContaining({ name: B, code: 'ERR_BUNDLE_INVALID', keptLastGood: true })]);
    expect(errors[0]!.reason).toContain('bundle lists 257 keys, more than the 256 taken');
    await stillVerifies(resolver);
  });

  it('quotes a repeated kid in its log line clipped, never the megabyte the endpoint sent', async () => {
    const jwk = publicJwk(makeKey('twice'), { use: 'jwt-svid' });
    const kid = 'k'.repeat(500_000);
    const { resolver, errors } = await afterGood({ body: JSON.stringify(bundle({}, [{ ...jwk, kid }, { ...jwk, kid }])) });
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_BUNDLE_KEY', keptLastGood: true })]);
    expect(errors[0]!.reason.length).toBeLessThan(1_000);
    await stillVerifies(resolver);
  });

  it.each([
    ['a public exponent as long as its modulus (5 ms a verification, not 0.03)', () => ({ ...rsaJwk(2048), e: Buffer.alloc(256, 0x7f).toString('base64url') })],
    ['a modulus of 16,384 bits (1 ms a verification)', () => ({ ...rsaJwk(2048), n: Buffer.alloc(2048, 0xc5).toString('base64url') })],
  ])('refuses a jwt-svid RSA key with %s, keeping the last good bundle', async (_name, key) => {
    const { resolver, errors } = await afterGood({ body: JSON.stringify(bundle({ spiffe_sequence: 6 }, [{ ...key(), kid: 'costly', use: 'jwt-svid' }])) });
    expect(errors).toEqual([expect.objectContaining({ name: B, code: 'ERR_BUNDLE_KEY', keptLastGood: true })]);
    expect(errors[0]!.reason).toMatch(/keys\[1\]: RSA (public exponent larger than 2\^31 - 1|key longer than 8192 bits)$/);
    await stillVerifies(resolver);
  });

  it('refuses an x509-svid authority whose RSA key has an exponent past 2^31 - 1, keeping the last good bundle', async () => {
    const [key, cert] = [join(world.pki.dir, 'costly-root.key'), join(world.pki.dir, 'costly-root.pem')];
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', `rsa_keygen_pubexp:${2 ** 33 + 1}`, '-out', key], { stdio: 'ignore' });
    execFileSync('openssl', ['req', '-x509', '-key', key, '-out', cert, '-days', '1', '-subj', '/CN=costly', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign'], { stdio: 'ignore' });
    const { resolver, errors } = await afterGood({ body: JSON.stringify(bundle({ spiffe_sequence: 6 }, [x509BundleKey(readFileSync(cert, 'utf8'))])) });
    expect(errors).toEqual([expect.objectContaining({ name: B, code: 'ERR_BUNDLE_KEY', keptLastGood: true })]);
    expect(errors[0]!.reason).toMatch(/keys\[1\]: x5c certificate's RSA public exponent larger than 2\^31 - 1$/);
    await stillVerifies(resolver);
  });

  it('takes a bundle padded with 100,000 members beside its keys (ignored, as unknown members are)', async () => {
    const padding = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [i.toString(36), 0]));
    const { resolver, errors } = await afterGood({ body: JSON.stringify(bundle({ spiffe_sequence: 6, ...padding })) });
    expect(errors).toEqual([]);
    expect(resolver.stats.bundleEndpoints[B]!.sequence).toBe(6);
    await stillVerifies(resolver);
  });
});

describe('refresh hints and sequence numbers of every wrong kind', () => {
  it.each([
    ['a negative refresh hint', { spiffe_refresh_hint: -1 }],
    ['a refresh hint as text', { spiffe_refresh_hint: '60' }],
    ['a fractional refresh hint', { spiffe_refresh_hint: 0.5 }],
    ['a refresh hint past 2^53', { spiffe_refresh_hint: 1e300 }],
    ['a sequence as text', { spiffe_sequence: '9' }],
    ['a sequence past 2^53', { spiffe_sequence: 18446744073709551615 }],
    ['a sequence of null', { spiffe_sequence: null }],
    ['an older sequence', { spiffe_sequence: 4 }],
  ])('refuses a bundle with %s, and keeps the last good one', async (_name, extra) => {
    const { resolver, errors } = await afterGood({ body: JSON.stringify(bundle(extra)) });
    expect(errors).toEqual([expect.objectContaining({ name: B, keptLastGood: true })]);
    expect(resolver.stats.bundleEndpoints[B]!.sequence).toBe(5);
    await stillVerifies(resolver);
  });

  it.each([0, 2 ** 53 - 1])('takes a refresh hint of %d, the poll held within its bounds', async (hint) => {
    const { resolver, errors } = await afterGood({ body: JSON.stringify(bundle({ spiffe_sequence: 6, spiffe_refresh_hint: hint })) });
    expect(errors).toEqual([]);
    await stillVerifies(resolver);
  });
});

describe('an answer that arrives too slowly or too big', () => {
  /** An https server on 127.0.0.1 with a certificate from the test CA, answering as `handle` says. */
  async function endpoint(handle: Parameters<typeof createServer>[1]): Promise<URL> {
    const name = `hostile-raw-${cleanups.length}-${Date.now()}`;
    const cert = world.pki.leaf(name, serverCa, { extra: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
    const server: Server = createServer({ cert, key: readFileSync(join(world.pki.dir, `${name}.key`)) }, handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }));
    return new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/bundle`);
  }
  const target = (url: URL, timeoutMs: number, maxBytes = 64 * 1024) => ({ url, ca: readFileSync(serverCa.certPath, 'utf8'), timeoutMs, maxBytes });

  it('gives up at the deadline on a body dripped a byte at a time, headers sent at once', async () => {
    const url = await endpoint((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => response.write(' '), 50);
      response.on('close', () => clearInterval(drip));
    });
    const started = performance.now();
    await expect(fetchBundleText(target(url, 400))).rejects.toMatchObject({ kind: 'error', message: 'no complete answer within 400 ms' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('never inflates a gzip answer: 64 MiB of JSON sent as 64 KiB of gzip is bytes that are not JSON', async () => {
    const bomb = gzipSync(Buffer.from(`{"keys":[${' '.repeat(64 * 1024 * 1024)}]}`));
    const url = await endpoint((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bomb.length });
      response.end(bomb);
    });
    const text = await fetchBundleText(target(url, 2_000, 1024 * 1024));
    expect(text.length).toBeLessThan(1024 * 1024);
  });
});
