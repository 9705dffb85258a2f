/**
 * End-user JWT verification for one configured issuer: key by kid and alg from the issuer's
 * key set, then signature, iss, aud, exp and nbf; a verified token becomes an EndUser with
 * Istio's request principal `iss/sub`. Synchronous unless the remote key set must be fetched.
 */
import type { EndUser } from '../../domain/index.js';
import { IdentityError } from '../errors.js';
import type { NormalizedIssuer } from '../options.js';
import { assembleSubject } from './assemble-subject.js';
import { checkClaims } from './check-claims.js';
import type { DecodedJwt } from './decode-jwt.js';
import type { IssuerKeys } from './issuer-keys.js';
import type { VerificationKey } from './verification-key.js';
import { verifyJwsSignature } from './verify-signature.js';
import type { VerifiedToken } from './verified-token.js';

export interface OidcContext {
  readonly nowMs: number;
  readonly toleranceSeconds: number;
}

/** ID tokens and RFC 9068 access tokens; any other typ is another kind of token (logout, DPoP...). */
const OIDC_TYPES = new Set(['jwt', 'jose', 'at+jwt', 'application/at+jwt', 'application/jwt']);

export function verifyOidcToken(
  jwt: DecodedJwt,
  issuer: NormalizedIssuer,
  keys: IssuerKeys,
  ctx: OidcContext,
): VerifiedToken | Promise<VerifiedToken> {
  const typ = jwt.header.typ;
  if (typ !== undefined && (typeof typ !== 'string' || !OIDC_TYPES.has(typ.toLowerCase()))) {
    throw new IdentityError('ERR_JWT_TYP', 'token', 'typ is not one of an ID or access token');
  }
  const key = keys.keyFor(jwt);
  return key instanceof Promise ? key.then((k) => verifyWithKey(jwt, issuer, k, ctx)) : verifyWithKey(jwt, issuer, key, ctx);
}

function verifyWithKey(jwt: DecodedJwt, issuer: NormalizedIssuer, key: VerificationKey, ctx: OidcContext): VerifiedToken {
  verifyJwsSignature(jwt, key);
  const expiresAt = checkClaims(jwt.payload, { issuer: issuer.issuer, audiences: issuer.audiences, ...ctx });
  const token = { kind: 'oidc', user: toEndUser(jwt.payload, issuer.issuer, expiresAt), expiresAt } as const;
  return Object.freeze({ ...token, subject: assembleSubject(undefined, [token], undefined, 'jwt') });
}

function toEndUser(payload: Readonly<Record<string, unknown>>, issuer: string, expiresAt: number): EndUser {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new IdentityError('ERR_JWT_CLAIM_INVALID', 'token', '"sub" must be a non-empty string');
  }
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : ((payload.aud ?? []) as unknown[]);
  return Object.freeze({
    principal: `${issuer}/${subject}`,
    issuer,
    subject,
    audiences: Object.freeze(audiences.filter((aud): aud is string => typeof aud === 'string')),
    ...(typeof payload.azp === 'string' ? { presenter: payload.azp } : {}),
    claims: deepFreeze(payload),
    expiresAt,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
