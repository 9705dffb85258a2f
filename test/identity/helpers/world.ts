/**
 * One shared test world: two trust domains (a.test, b.test) with X.509 roots and JWT-SVID
 * keys, an intermediate CA in a.test, an OIDC issuer with a JWKS file, and a resolver factory
 * on a fixed clock.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIdentityResolver, type IdentityOptions, type IdentityResolver } from '../../../src/identity/index.js';
import type { IdentityResolverDeps } from '../../../src/identity/index.js';
import { TestPki, x509BundleKey, type Issuer } from './pki.js';
import { makeKey, publicJwk, type SigningKey } from './tokens.js';

export const A = 'a.test';
export const B = 'b.test';
export const WORKLOAD_A = 'spiffe://a.test/ns/shop/sa/cart';
export const WORKLOAD_B = 'spiffe://b.test/ns/pay/sa/api';
export const IDP = 'https://idp.test';

export interface World {
  readonly pki: TestPki;
  readonly dir: string;
  readonly rootA: Issuer;
  readonly rootB: Issuer;
  readonly intermediateA: Issuer;
  readonly keyA: SigningKey;
  readonly keyA_rsa: SigningKey;
  readonly keyB: SigningKey;
  readonly idpKey: SigningKey;
  /** A key whose kid is listed in a.test's bundle as an x509-svid key. */
  readonly x509Kid: string;
  /** Epoch ms that every resolver of this world uses as "now". */
  readonly nowMs: number;
  readonly nowS: number;
  readonly options: IdentityOptions;
  resolver(overrides?: Partial<IdentityOptions>, deps?: Partial<IdentityResolverDeps>): Promise<IdentityResolver>;
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value));
}

export function buildWorld(): World {
  const pki = new TestPki();
  const rootA = pki.root('root-a', A);
  const rootB = pki.root('root-b', B);
  const intermediateA = pki.intermediate('int-a', rootA);
  const keyA = makeKey('a1');
  const keyA_rsa = makeKey('a2', 'RS256');
  const keyB = makeKey('b1');
  const idpKey = makeKey('o1', 'RS256');
  const x509Kid = 'x509-only';
  writeJson(join(pki.dir, 'a.json'), {
    spiffe_sequence: 1,
    spiffe_refresh_hint: 300,
    keys: [x509BundleKey(rootA.pem, x509Kid), publicJwk(keyA, { use: 'jwt-svid' }), publicJwk(keyA_rsa, { use: 'jwt-svid' })],
  });
  writeJson(join(pki.dir, 'b.json'), { keys: [x509BundleKey(rootB.pem), publicJwk(keyB, { use: 'jwt-svid' })] });
  writeJson(join(pki.dir, 'idp.json'), { keys: [publicJwk(idpKey, { use: 'sig', alg: 'RS256' })] });
  // a little ahead of the wall clock, so certificates made later in a test are already valid
  const nowMs = Date.now() + 300_000;
  const options: IdentityOptions = {
    trustDomains: { [A]: { bundle: 'a.json' }, [B]: { bundle: 'b.json' } },
    jwtSvid: { audiences: ['meshwarden'] },
    issuers: [{ issuer: IDP, audiences: ['shop-api'], jwksFile: 'idp.json' }],
  };
  return {
    pki, dir: pki.dir, rootA, rootB, intermediateA, keyA, keyA_rsa, keyB, idpKey, x509Kid, nowMs,
    nowS: Math.floor(nowMs / 1000),
    options,
    resolver: (overrides = {}, deps = {}) =>
      createIdentityResolver({ ...options, ...overrides }, { baseDir: pki.dir, now: () => nowMs, watch: false, ...deps }),
  };
}

/** Runs resolve and returns the IdentityError code (or 'OK'), whether it throws or rejects. */
export async function outcome(resolver: IdentityResolver, request: Parameters<IdentityResolver['resolve']>[0]): Promise<string> {
  try {
    await resolver.resolve(request);
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** The error resolve throws or rejects with (undefined when it answers), whichever way it fails. */
export async function rejection(resolver: IdentityResolver, request: Parameters<IdentityResolver['resolve']>[0]): Promise<unknown> {
  try {
    await resolver.resolve(request);
    return undefined;
  } catch (error) {
    return error;
  }
}
