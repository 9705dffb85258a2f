/**
 * JWT-SVID verification (SPIFFE JWT-SVID §3-4), synchronous: the key is looked up by `kid`
 * among the jwt-svid authorities of the trust domain named by `sub` and of no other domain, so
 * a key of domain A never validates a token that claims domain B; then signature and claims.
 */
import type { SpiffeId } from '../../domain/index.js';
import { IdentityError, type IdentityErrorCode } from '../errors.js';
import type { JwtAuthority, SpiffeBundle } from '../parse-spiffe-bundle.js';
import { assembleSubject } from './assemble-subject.js';
import { checkClaims } from './check-claims.js';
import type { DecodedJwt } from './decode-jwt.js';
import { keyFitsAlg } from './verification-key.js';
import { verifyJwsSignature } from './verify-signature.js';
import type { BundleLookup, VerifiedToken } from './verified-token.js';

export interface JwtSvidContext {
  readonly bundles: BundleLookup;
  readonly audiences: readonly string[];
  readonly nowMs: number;
  readonly toleranceSeconds: number;
}

const SVID_TYPES = new Set(['JWT', 'JOSE']);

export function verifyJwtSvid(jwt: DecodedJwt, id: SpiffeId, ctx: JwtSvidContext): VerifiedToken {
  const { header } = jwt;
  if ('typ' in header && !SVID_TYPES.has(header.typ as string)) fail('ERR_JWT_TYP', 'JWT-SVID typ must be JWT or JOSE');
  const authority = findAuthority(bundleOf(id, ctx.bundles), header.kid, id.trustDomain);
  if (!keyFitsAlg(authority, jwt.alg)) fail('ERR_JWT_ALG_KEY_MISMATCH', `key ${authority.kid} cannot verify ${jwt.alg}`);
  verifyJwsSignature(jwt, authority);
  const expiresAt = checkClaims(jwt.payload, { audiences: ctx.audiences, nowMs: ctx.nowMs, toleranceSeconds: ctx.toleranceSeconds });
  const token = { kind: 'jwt-svid', workload: id, expiresAt } as const;
  return Object.freeze({ ...token, subject: assembleSubject(undefined, [token], undefined, 'jwt') });
}

function fail(code: IdentityErrorCode, message: string): never {
  throw new IdentityError(code, 'token', message);
}

function bundleOf(id: SpiffeId, bundles: BundleLookup): SpiffeBundle {
  const state = bundles(id.trustDomain);
  if (state === undefined) fail('ERR_TRUST_DOMAIN_UNTRUSTED', `trust domain ${id.trustDomain} is not configured`);
  if (state.bundle === undefined) fail('ERR_TRUST_DOMAIN_UNAVAILABLE', `bundle of ${id.trustDomain} never loaded`);
  return state.bundle;
}

function findAuthority(bundle: SpiffeBundle, kid: unknown, trustDomain: string): JwtAuthority {
  if (typeof kid !== 'string' || kid.length === 0) fail('ERR_JWT_KID_MISSING', 'JWT-SVID header has no kid');
  const authority = bundle.jwtAuthorities.get(kid);
  if (authority !== undefined) return authority;
  if (bundle.x509KeyIds.has(kid)) fail('ERR_JWT_KEY_USE', `key ${kid} of ${trustDomain} is for X.509-SVIDs, not JWTs`);
  return fail('ERR_JWT_KEY_NOT_FOUND', `no jwt-svid key ${kid.slice(0, 64)} in trust domain ${trustDomain}`);
}
