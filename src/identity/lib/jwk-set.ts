/**
 * An OIDC issuer's JWK Set (a file, or what the JWKS endpoint answered) with every key imported
 * once per load, and the selection jose's key sets make (RFC 7517 §4): `use` sig, `key_ops`
 * verify, the alg's kty and curve, the key's own `alg`, the token's `kid`. Exactly one key must
 * match: a token that could belong to several keys is refused, never tried against each.
 */
import { IdentityError } from '../errors.js';
import type { DecodedJwt } from './decode-jwt.js';
import { JWS_ALGORITHMS } from './jws-algorithms.js';
import { importVerificationKey, type VerificationKey } from './verification-key.js';

export interface JwkSetKey {
  readonly kid: unknown;
  readonly kty: unknown;
  readonly crv: unknown;
  readonly alg: unknown;
  /** The imported key, or why this member cannot verify (short RSA key, private key, ...). */
  readonly verification: VerificationKey | { readonly unusable: string };
}

export type JwkSet = readonly JwkSetKey[];

/** Throws on anything that is not a JWK Set; members that can never verify a JWS are left out. */
export function parseJwkSet(json: unknown): JwkSet {
  if (!isObject(json) || !Array.isArray(json.keys) || !json.keys.every(isObject)) {
    throw new Error('not a JSON Web Key Set (an object with a "keys" array of objects)');
  }
  return Object.freeze(json.keys.filter(canVerify).map(prepare));
}

/** The one key for this token; undefined when none matches. */
export function findJwk(set: JwkSet, jwt: DecodedJwt): VerificationKey | undefined {
  const { alg } = jwt;
  const { kid } = jwt.header;
  const spec = JWS_ALGORITHMS[alg];
  let found: JwkSetKey | undefined;
  for (const member of set) {
    const matches =
      member.kty === spec.kty &&
      (kid === undefined || (typeof kid === 'string' && kid === member.kid)) &&
      (member.alg === undefined || member.alg === alg) &&
      (spec.kty !== 'EC' || member.crv === spec.crv);
    if (!matches) continue;
    if (found !== undefined) throw new IdentityError('ERR_JWT_KEY_NOT_FOUND', 'token', 'several keys match; the token must name one by kid');
    found = member;
  }
  if (found === undefined) return undefined;
  if ('unusable' in found.verification) {
    throw new IdentityError('ERR_JWT_ALG_KEY_MISMATCH', 'token', `the matching key cannot verify ${alg}: ${found.verification.unusable}`);
  }
  return found.verification;
}

export function keyNotFound(): never {
  throw new IdentityError('ERR_JWT_KEY_NOT_FOUND', 'token', 'no key of the issuer matches the token');
}

/** What does not depend on the token: a signing key of a kind we verify, not restricted to other uses. */
function canVerify(jwk: Record<string, unknown>): boolean {
  const ops = jwk.key_ops;
  return (
    (jwk.kty === 'RSA' || jwk.kty === 'EC') &&
    (jwk.use === undefined || jwk.use === 'sig') &&
    (jwk.ext === undefined || typeof jwk.ext === 'boolean') &&
    (ops === undefined ||
      (Array.isArray(ops) && ops.every((op, i) => typeof op === 'string' && ops.indexOf(op) === i) && ops.includes('verify')))
  );
}

function prepare(jwk: Record<string, unknown>): JwkSetKey {
  let verification: JwkSetKey['verification'];
  try {
    verification = importVerificationKey(jwk);
  } catch (error) {
    verification = { unusable: (error as Error).message };
  }
  return Object.freeze({ kid: jwk.kid, kty: jwk.kty, crv: jwk.crv, alg: jwk.alg, verification });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
