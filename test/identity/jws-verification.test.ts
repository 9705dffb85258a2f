/**
 * The checks that moved from jose's jwtVerify to node:crypto and our own code: signatures per
 * algorithm, key/alg compatibility, JWK Set selection and registered claims. Table cases.
 */
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkClaims, type ClaimRules } from '../../src/identity/lib/check-claims.js';
import { decodeJwt, type DecodedJwt } from '../../src/identity/lib/decode-jwt.js';
import { findJwk, parseJwkSet } from '../../src/identity/lib/jwk-set.js';
import type { JwsAlgorithm } from '../../src/identity/lib/jws-algorithms.js';
import { importVerificationKey, type VerificationKey } from '../../src/identity/lib/verification-key.js';
import { verifyJwsSignature } from '../../src/identity/lib/verify-signature.js';

const pair = (kind: 'rsa' | 'P-256' | 'P-384' | 'P-521', bits = 2048) =>
  kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits }) : generateKeyPairSync('ec', { namedCurve: kind });
const KEYS = { rsa: pair('rsa'), p256: pair('P-256'), p384: pair('P-384'), p521: pair('P-521') };
const KEY_OF: Record<JwsAlgorithm, keyof typeof KEYS> = {
  RS256: 'rsa', RS384: 'rsa', RS512: 'rsa', PS256: 'rsa', PS384: 'rsa', PS512: 'rsa', ES256: 'p256', ES384: 'p384', ES512: 'p521',
};
const jwk = (key: KeyObject, extra: Record<string, unknown> = {}) => ({ ...key.export({ format: 'jwk' }), ...extra });
const verificationKey = (name: keyof typeof KEYS, extra: Record<string, unknown> = {}): VerificationKey =>
  importVerificationKey(jwk(KEYS[name].publicKey, extra));
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

type SignOptions = { saltLength?: number; der?: boolean; pkcs1?: boolean };
function signWith(alg: JwsAlgorithm, privateKey: KeyObject, input: string, options: SignOptions = {}): Buffer {
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return sign(hash, Buffer.from(input), { key: privateKey, dsaEncoding: options.der ? 'der' : 'ieee-p1363' });
  if (alg.startsWith('PS') && !options.pkcs1) {
    return sign(hash, Buffer.from(input), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: options.saltLength ?? Number(alg.slice(2)) / 8 });
  }
  return sign(hash, Buffer.from(input), privateKey);
}

function token(alg: JwsAlgorithm, options: SignOptions & { signAs?: JwsAlgorithm; mangle?: (s: Buffer) => Buffer } = {}): DecodedJwt {
  const input = `${b64({ alg, kid: 'k' })}.${b64({ sub: 's' })}`;
  const signer = options.signAs ?? alg;
  const signature = (options.mangle ?? ((s) => s))(signWith(signer, KEYS[KEY_OF[signer]].privateKey, input, options));
  return decodeJwt(`${input}.${signature.toString('base64url')}`, 16384);
}

function signatureOutcome(jwt: DecodedJwt, key: VerificationKey): string {
  try {
    verifyJwsSignature(jwt, key);
    return 'OK';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('signatures, verified by node:crypto', () => {
  it.each(Object.keys(KEY_OF) as JwsAlgorithm[])('verifies %s with a key of its kind', (alg) => {
    expect(signatureOutcome(token(alg), verificationKey(KEY_OF[alg]))).toBe('OK');
  });

  it.each<[string, DecodedJwt | (() => DecodedJwt), keyof typeof KEYS, Record<string, unknown>, string]>([
    ['an ES256 token against an RSA key', () => token('ES256'), 'rsa', {}, 'ERR_JWT_ALG_KEY_MISMATCH'],
    ['an RS256 token against an EC key', () => token('RS256'), 'p256', {}, 'ERR_JWT_ALG_KEY_MISMATCH'],
    ['a PS256 token against an EC key', () => token('PS256'), 'p256', {}, 'ERR_JWT_ALG_KEY_MISMATCH'],
    ['an ES384 token against a P-256 key', () => token('ES384'), 'p256', {}, 'ERR_JWT_ALG_KEY_MISMATCH'],
    ['an ES256 token against a P-384 key', () => token('ES256'), 'p384', {}, 'ERR_JWT_ALG_KEY_MISMATCH'],
    ['a PS256 token against a key pinned to RS256', () => token('PS256'), 'rsa', { alg: 'RS256' }, 'ERR_JWT_ALG_KEY_MISMATCH'],
    ['a PS256 header over a PKCS#1 v1.5 signature', () => token('PS256', { pkcs1: true }), 'rsa', {}, 'ERR_JWT_SIGNATURE'],
    ['an RS256 header over a PSS signature', () => token('RS256', { signAs: 'PS256' }), 'rsa', {}, 'ERR_JWT_SIGNATURE'],
    ['a PS256 signature with a 20-byte salt', () => token('PS256', { saltLength: 20 }), 'rsa', {}, 'ERR_JWT_SIGNATURE'],
    ['an RS384 header over an RS256 signature', () => token('RS384', { signAs: 'RS256' }), 'rsa', {}, 'ERR_JWT_SIGNATURE'],
    ['an ES256 signature in DER instead of R||S', () => token('ES256', { der: true }), 'p256', {}, 'ERR_JWT_SIGNATURE'],
    ['an ES256 signature one byte short', () => token('ES256', { mangle: (s) => s.subarray(1) }), 'p256', {}, 'ERR_JWT_SIGNATURE'],
    ['an RSA signature with a zero byte in front', () => token('RS256', { mangle: (s) => Buffer.concat([Buffer.alloc(1), s]) }), 'rsa', {}, 'ERR_JWT_SIGNATURE'],
    ['an RSA signature with a bit flipped', () => token('RS256', { mangle: (s) => Buffer.from(s.map((b, i) => (i === 9 ? b ^ 1 : b))) }), 'rsa', {}, 'ERR_JWT_SIGNATURE'],
  ])('refuses %s', (_name, make, keyName, extra, code) => {
    const jwt = typeof make === 'function' ? make() : make;
    expect(signatureOutcome(jwt, verificationKey(keyName, extra))).toBe(code);
  });

  it('refuses a signature over another signing input', () => {
    const jwt = token('ES256');
    const forged = decodeJwt(`${jwt.signingInput.replace(/\.[^.]+$/, `.${b64({ sub: 'root' })}`)}.${jwt.signature}`, 16384);
    expect(signatureOutcome(forged, verificationKey('p256'))).toBe('ERR_JWT_SIGNATURE');
  });
});

describe('key import, once per load', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a 1024-bit RSA key', jwk(pair('rsa', 1024).publicKey), 'RSA key shorter than 2048 bits'],
    ['a private key', jwk(KEYS.p256.privateKey), 'holds a private key'],
    ['an Ed25519 key', jwk(generateKeyPairSync('ed25519').publicKey), 'cannot verify'],
    ['broken material', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, 'does not import'],
  ])('refuses %s', (_name, key, message) => {
    expect(() => importVerificationKey(key)).toThrow(message);
  });

  it('reads kty, curve and RSA size from the imported key', () => {
    expect(verificationKey('p521')).toMatchObject({ kty: 'EC', crv: 'P-521' });
    expect(verificationKey('rsa', { alg: 'PS384' })).toMatchObject({ kty: 'RSA', modulusBytes: 256, alg: 'PS384' });
  });
});

describe('JWK Set selection', () => {
  const rsa2 = pair('rsa');
  const header = (alg: JwsAlgorithm, kid?: unknown) =>
    ({ alg, header: kid === undefined ? { alg } : { alg, kid } }) as unknown as DecodedJwt;
  const pick = (keys: Record<string, unknown>[], alg: JwsAlgorithm, kid?: unknown): string => {
    try {
      const found = findJwk(parseJwkSet({ keys }), header(alg, kid));
      return found === undefined ? 'none' : `${found.kty}${found.crv ?? ''}`;
    } catch (error) {
      return (error as { code: string }).code;
    }
  };
  const r1 = jwk(KEYS.rsa.publicKey, { kid: 'r1' });
  const e1 = jwk(KEYS.p256.publicKey, { kid: 'e1' });

  it.each<[string, Record<string, unknown>[], JwsAlgorithm, unknown, string]>([
    ['the key named by kid', [r1, e1], 'RS256', 'r1', 'RSA'],
    ['the only key of the alg’s kind without a kid', [r1, e1], 'ES256', undefined, 'ECP-256'],
    ['no key when the kid names a key of another kind', [r1, e1], 'ES256', 'r1', 'none'],
    ['no key for an unknown kid', [r1, e1], 'RS256', 'r9', 'none'],
    ['no key for a kid that is not a string', [r1], 'RS256', 1, 'none'],
    ['no key marked for encryption', [{ ...r1, use: 'enc' }], 'RS256', 'r1', 'none'],
    ['no key whose key_ops lack verify', [{ ...r1, key_ops: ['sign'] }], 'RS256', 'r1', 'none'],
    ['no key with repeated key_ops', [{ ...r1, key_ops: ['verify', 'verify'] }], 'RS256', 'r1', 'none'],
    ['no key pinned to another alg', [{ ...r1, alg: 'RS256' }], 'PS256', 'r1', 'none'],
    ['no key on another curve', [e1], 'ES384', 'e1', 'none'],
    ['a refusal when two keys could verify a token without kid', [r1, jwk(rsa2.publicKey, { kid: 'r2' })], 'RS256', undefined, 'ERR_JWT_KEY_NOT_FOUND'],
    ['a refusal when the matching key is too short', [jwk(pair('rsa', 1024).publicKey, { kid: 'r1' })], 'RS256', 'r1', 'ERR_JWT_ALG_KEY_MISMATCH'],
    ['a refusal when the matching key is private', [jwk(KEYS.rsa.privateKey, { kid: 'r1' })], 'RS256', 'r1', 'ERR_JWT_ALG_KEY_MISMATCH'],
  ])('gives %s', (_name, keys, alg, kid, expected) => {
    expect(pick(keys, alg, kid)).toBe(expected);
  });

  it.each([null, [], { keys: 'none' }, { keys: [1] }])('refuses %j as a JWK Set', (value) => {
    expect(() => parseJwkSet(value)).toThrow('not a JSON Web Key Set');
  });
});

describe('registered claims', () => {
  const NOW = 1_900_000_000;
  const rules: ClaimRules = { audiences: ['api', 'mesh'], nowMs: NOW * 1000 + 999, toleranceSeconds: 0 };
  const oidc: ClaimRules = { ...rules, issuer: 'https://idp' };
  const base = { aud: 'api', sub: 's', exp: NOW + 60 };
  const outcome = (payload: Record<string, unknown>, r: ClaimRules): string | number => {
    try {
      return checkClaims(payload, r);
    } catch (error) {
      return (error as { code: string }).code;
    }
  };

  it.each<[string, Record<string, unknown>, ClaimRules, string | number]>([
    ['a minimal valid set, giving exp', base, rules, NOW + 60],
    ['aud as an array naming one of ours', { ...base, aud: ['x', 'mesh'] }, rules, NOW + 60],
    ['the issuer, when one is required', { ...base, iss: 'https://idp' }, oidc, NOW + 60],
    ['missing iss first when an issuer is required', { exp: NOW + 60 }, oidc, 'ERR_JWT_ISSUER_MISMATCH'],
    ['another iss', { ...base, iss: 'https://idp/' }, oidc, 'ERR_JWT_ISSUER_MISMATCH'],
    ['missing aud before missing sub', { exp: NOW + 60 }, rules, 'ERR_JWT_AUD_MISSING'],
    ['missing sub', { aud: 'api', exp: NOW + 60 }, rules, 'ERR_JWT_SUB_MISSING'],
    ['missing exp', { aud: 'api', sub: 's' }, rules, 'ERR_JWT_EXP_MISSING'],
    ['another aud', { ...base, aud: 'billing' }, rules, 'ERR_JWT_AUD_MISMATCH'],
    ['an aud array without ours', { ...base, aud: ['billing'] }, rules, 'ERR_JWT_AUD_MISMATCH'],
    ['an aud that is a number', { ...base, aud: 7 }, rules, 'ERR_JWT_AUD_MISMATCH'],
    ['iat as a string', { ...base, iat: '1' }, rules, 'ERR_JWT_CLAIM_INVALID'],
    ['nbf as a string', { ...base, nbf: String(NOW) }, rules, 'ERR_JWT_NOT_YET_VALID'],
    ['nbf a second ahead', { ...base, nbf: NOW + 1 }, rules, 'ERR_JWT_NOT_YET_VALID'],
    ['nbf a second ahead within tolerance', { ...base, nbf: NOW + 1 }, { ...rules, toleranceSeconds: 1 }, NOW + 60],
    ['nbf now', { ...base, nbf: NOW }, rules, NOW + 60],
    ['exp as a string', { ...base, exp: String(NOW + 60) }, rules, 'ERR_JWT_CLAIM_INVALID'],
    ['exp null', { ...base, exp: null }, rules, 'ERR_JWT_CLAIM_INVALID'],
    ['exp now (seconds floored)', { ...base, exp: NOW }, rules, 'ERR_JWT_EXPIRED'],
    ['exp now within tolerance', { ...base, exp: NOW }, { ...rules, toleranceSeconds: 1 }, NOW],
    ['exp a second ahead', { ...base, exp: NOW + 1 }, rules, NOW + 1],
  ])('%s', (_name, payload, r, expected) => {
    expect(outcome(payload, r)).toBe(expected);
  });
});

describe('decoding before any key is chosen', () => {
  it('refuses a payload that is not UTF-8', () => {
    const bad = Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('base64url');
    expect(() => decodeJwt(`${b64({ alg: 'ES256' })}.${bad}.c2ln`, 16384)).toThrow(expect.objectContaining({ code: 'ERR_JWT_MALFORMED' }));
  });
});
