/**
 * End-user JWT verification for one configured issuer: jose checks signature, iss, aud, exp
 * and nbf; a verified token becomes an EndUser with Istio's request principal `iss/sub`.
 */
import { jwtVerify, type JWTPayload } from 'jose';
import type { EndUser } from '../../domain/subject.js';
import { IdentityError } from '../errors.js';
import type { NormalizedIssuer } from '../options.js';
import { ALLOWED_ALGS, type DecodedJwt } from './decode-jwt.js';
import type { IssuerKeys } from './issuer-keys.js';
import { fromJoseError } from './jose-errors.js';
import type { VerifiedToken } from './verified-token.js';

export interface OidcContext {
  readonly nowMs: number;
  readonly toleranceSeconds: number;
}

/** ID tokens and RFC 9068 access tokens; any other typ is another kind of token (logout, DPoP...). */
const OIDC_TYPES = new Set(['jwt', 'jose', 'at+jwt', 'application/at+jwt', 'application/jwt']);

export async function verifyOidcToken(
  jwt: DecodedJwt,
  issuer: NormalizedIssuer,
  keys: IssuerKeys,
  ctx: OidcContext,
): Promise<VerifiedToken> {
  const typ = jwt.header.typ;
  if (typ !== undefined && (typeof typ !== 'string' || !OIDC_TYPES.has(typ.toLowerCase()))) {
    throw new IdentityError('ERR_JWT_TYP', 'token', 'typ is not one of an ID or access token');
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt.token, keys.getKey, {
      issuer: issuer.issuer,
      audience: [...issuer.audiences],
      algorithms: [...ALLOWED_ALGS],
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(ctx.nowMs),
      clockTolerance: ctx.toleranceSeconds,
    }));
  } catch (error) {
    throw fromJoseError(error);
  }
  const user = toEndUser(payload, issuer.issuer);
  return Object.freeze({ kind: 'oidc', user, expiresAt: user.expiresAt as number });
}

function toEndUser(payload: JWTPayload, issuer: string): EndUser {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new IdentityError('ERR_JWT_CLAIM_INVALID', 'token', '"sub" must be a non-empty string');
  }
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
  return Object.freeze({
    principal: `${issuer}/${subject}`,
    issuer,
    subject,
    audiences: Object.freeze([...audiences]),
    ...(typeof payload.azp === 'string' ? { presenter: payload.azp } : {}),
    claims: deepFreeze(payload),
    expiresAt: payload.exp as number,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
