import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createIdentityResolver,
  parseRootsPem,
  parseSpiffeBundle,
  type ReloadErrorEvent,
  type ReloadEvent,
} from '../../src/identity/index.js';
import { x509BundleKey } from './helpers/pki.js';
import { accessRequest, bearer } from './helpers/request.js';
import { makeKey, publicJwk, signToken } from './helpers/tokens.js';
import { buildWorld, outcome, WORKLOAD_A, type World } from './helpers/world.js';

let world: World;
beforeAll(() => {
  world = buildWorld();
});

const bundleText = (keys: unknown[], extra: Record<string, unknown> = {}): string => JSON.stringify({ keys, ...extra });

describe('parseSpiffeBundle', () => {
  it('reads sequence, refresh hint, X.509 and JWT authorities', () => {
    const bundle = parseSpiffeBundle(bundleText(
      [x509BundleKey(world.rootA.pem, 'x1'), publicJwk(world.keyA, { use: 'jwt-svid' }), publicJwk(world.keyA_rsa, { use: 'jwt-svid' })],
      { spiffe_sequence: 7, spiffe_refresh_hint: 60 },
    ));
    expect(bundle.sequence).toBe(7);
    expect(bundle.refreshHint).toBe(60);
    expect(bundle.x509Authorities).toHaveLength(1);
    expect([...bundle.jwtAuthorities.keys()]).toEqual(['a1', 'a2']);
    expect(bundle.x509KeyIds.has('x1')).toBe(true);
  });

  it('ignores keys of unknown kty or use, as the standard says', () => {
    const bundle = parseSpiffeBundle(bundleText([
      { kty: 'oct', use: 'jwt-svid', kid: 'k', k: 'AAAA' },
      { ...publicJwk(world.keyA), use: 'sig' },
      { kty: 'OKP', crv: 'Ed25519', x: 'AAAA', use: 'jwt-svid', kid: 'ed' },
      publicJwk(world.keyB, { use: 'jwt-svid' }),
    ]));
    expect(bundle.ignoredKeys).toBe(3);
    expect([...bundle.jwtAuthorities.keys()]).toEqual(['b1']);
  });

  it('accepts an empty key set (and every SVID of that domain is then invalid)', () => {
    expect(parseSpiffeBundle(bundleText([])).x509Authorities).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{', 'ERR_BUNDLE_JSON'],
    ['no keys array', '{"keys":{}}', 'ERR_BUNDLE_INVALID'],
    ['negative sequence', bundleText([], { spiffe_sequence: -1 }), 'ERR_BUNDLE_INVALID'],
    ['fractional refresh hint', bundleText([], { spiffe_refresh_hint: 1.5 }), 'ERR_BUNDLE_INVALID'],
    ['key without use', bundleText([{ kty: 'EC' }]), 'ERR_BUNDLE_KEY'],
    ['x509-svid key without x5c', bundleText([{ kty: 'EC', use: 'x509-svid' }]), 'ERR_BUNDLE_KEY'],
    ['x509-svid key with two certificates', bundleText([{ kty: 'EC', use: 'x509-svid', x5c: ['AA', 'BB'] }]), 'ERR_BUNDLE_KEY'],
    ['x509-svid key with garbage certificate', bundleText([{ kty: 'EC', use: 'x509-svid', x5c: ['AAAA'] }]), 'ERR_BUNDLE_KEY'],
    ['jwt-svid key without kid', bundleText([{ ...publicJwk(makeKey('k')), kid: undefined, use: 'jwt-svid' }]), 'ERR_BUNDLE_KEY'],
    ['duplicate kid', bundleText([publicJwk(makeKey('k'), { use: 'jwt-svid' }), publicJwk(makeKey('k'), { use: 'jwt-svid' })]), 'ERR_BUNDLE_KEY'],
    ['private key', bundleText([{ ...makeKey('k').privateKey.export({ format: 'jwk' }), kid: 'k', use: 'jwt-svid' }]), 'ERR_BUNDLE_KEY'],
    ['unsupported curve', bundleText([{ ...publicJwk(makeKey('k')), crv: 'secp256k1', use: 'jwt-svid' }]), 'ERR_BUNDLE_KEY'],
    ['RSA key of 8 bits', bundleText([{ kty: 'RSA', n: 'AA', e: 'AQAB', kid: 'k', use: 'jwt-svid' }]), 'ERR_BUNDLE_KEY'],
    ['EC point not on the curve', bundleText([{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'k', use: 'jwt-svid' }]), 'ERR_BUNDLE_KEY'],
  ])('rejects a bundle with %s', (_name, text, code) => {
    expect(() => parseSpiffeBundle(text)).toThrow(expect.objectContaining({ code }));
  });

  it('reads a PEM file of roots and refuses one without certificates', () => {
    expect(parseRootsPem(world.rootA.pem + world.rootB.pem).x509Authorities).toHaveLength(2);
    expect(() => parseRootsPem('nothing here')).toThrow(expect.objectContaining({ code: 'ERR_BUNDLE_INVALID' }));
  });
});

describe('bundle files', () => {
  async function setup(initial: string | undefined, watch: boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'meshwarden-bundle-'));
    const path = join(dir, 'a.json');
    if (initial !== undefined) writeFileSync(path, initial);
    const reloads: ReloadEvent[] = [];
    const errors: ReloadErrorEvent[] = [];
    const resolver = await createIdentityResolver(
      { trustDomains: { 'a.test': { bundle: 'a.json' } }, jwtSvid: { audiences: ['meshwarden'] } },
      { baseDir: dir, now: () => world.nowMs, watch },
    );
    resolver.on('reload', (e) => reloads.push(e));
    resolver.on('error', (e) => errors.push(e));
    return { path, resolver, reloads, errors };
  }
  const good = (): string => bundleText([x509BundleKey(world.rootA.pem), publicJwk(world.keyA, { use: 'jwt-svid' })], { spiffe_sequence: 1 });
  const svid = (): Promise<string> => signToken(world.keyA, { sub: WORKLOAD_A, aud: 'meshwarden', exp: world.nowS + 60 });

  it('reports not ready and denies as identity_unavailable while the file was never loaded', async () => {
    const { resolver } = await setup(undefined, false);
    expect(resolver.ready).toBe(false);
    const error = await Promise.resolve().then(async () => resolver.resolve(accessRequest({ headers: bearer(await svid()) }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TRUST_DOMAIN_UNAVAILABLE', reason: 'identity_unavailable' });
  });

  it('loads a file written later, on reload', async () => {
    const { path, resolver, reloads } = await setup(undefined, false);
    writeFileSync(path, good());
    await resolver.reload();
    expect(resolver.ready).toBe(true);
    expect(reloads).toEqual([expect.objectContaining({ name: 'a.test', sequence: 1, x509Authorities: 1, jwtAuthorities: 1 })]);
    expect(await outcome(resolver, accessRequest({ headers: bearer(await svid()) }))).toBe('OK');
  });

  it('drops a removed key at once, cached tokens included', async () => {
    const { path, resolver } = await setup(good(), false);
    const token = await svid();
    expect(await outcome(resolver, accessRequest({ headers: bearer(token) }))).toBe('OK');
    writeFileSync(path, bundleText([x509BundleKey(world.rootA.pem)], { spiffe_sequence: 2 }));
    await resolver.reload();
    expect(await outcome(resolver, accessRequest({ headers: bearer(token) }))).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it('keeps the last good bundle when the file is corrupted, and says why', async () => {
    const { path, resolver, errors } = await setup(good(), false);
    writeFileSync(path, '{"keys": [ trunc');
    await resolver.reload();
    expect(errors).toEqual([expect.objectContaining({ name: 'a.test', keptLastGood: true, error: expect.objectContaining({ code: 'ERR_BUNDLE_JSON' }) })]);
    expect(await outcome(resolver, accessRequest({ headers: bearer(await svid()) }))).toBe('OK');
  });

  it('makes every SVID of the domain invalid when the bundle becomes an empty set', async () => {
    const { path, resolver } = await setup(good(), false);
    writeFileSync(path, bundleText([]));
    await resolver.reload();
    expect(await outcome(resolver, accessRequest({ headers: bearer(await svid()) }))).toBe('ERR_JWT_KEY_NOT_FOUND');
    expect(await outcome(resolver, accessRequest({ principal: WORKLOAD_A }))).toBe('ERR_BUNDLE_EMPTY');
  });

  it('does not report a reload when the content did not change', async () => {
    const { resolver, reloads } = await setup(good(), false);
    await resolver.reload();
    expect(reloads).toEqual([]);
  });

  it('notices writes and atomic renames through the file watcher', async () => {
    const { path, resolver, reloads, errors } = await setup(good(), true);
    try {
      writeFileSync(`${path}.tmp`, bundleText([x509BundleKey(world.rootA.pem)], { spiffe_sequence: 2 }));
      renameSync(`${path}.tmp`, path);
      await vi.waitFor(() => expect(reloads.at(-1)?.sequence).toBe(2), { timeout: 5000, interval: 20 });
      writeFileSync(path, 'corrupt');
      await vi.waitFor(() => expect(errors.at(-1)?.error.code).toBe('ERR_BUNDLE_JSON'), { timeout: 5000, interval: 20 });
      expect(await outcome(resolver, accessRequest({ principal: WORKLOAD_A }))).toBe('OK');
    } finally {
      resolver.close();
    }
  });
});
