/**
 * The registered claims of a verified JWT (RFC 7519 §4.1), checked in the order and with the
 * codes that jose's jwtVerify used before signatures moved to node:crypto, so no outcome moved:
 * presence (iss, aud, sub, exp), then iss, aud, iat, nbf, exp on the injected clock.
 * Asking for a check makes it strict: an audience list makes `aud` required.
 */
import { IdentityError, type IdentityErrorCode } from '../errors.js';

export interface ClaimRules {
  /** Required, and must equal `iss` (OIDC); JWT-SVIDs are routed by `sub` and pass none. */
  readonly issuer?: string;
  /** `aud` must name at least one of them. */
  readonly audiences: readonly string[];
  readonly nowMs: number;
  readonly toleranceSeconds: number;
}

type Payload = Readonly<Record<string, unknown>>;

/** Returns `exp` (epoch seconds). */
export function checkClaims(payload: Payload, rules: ClaimRules): number {
  if (rules.issuer !== undefined) requireClaim(payload, 'iss', 'ERR_JWT_ISSUER_MISMATCH');
  requireClaim(payload, 'aud', 'ERR_JWT_AUD_MISSING');
  requireClaim(payload, 'sub', 'ERR_JWT_SUB_MISSING');
  requireClaim(payload, 'exp', 'ERR_JWT_EXP_MISSING');
  if (rules.issuer !== undefined && payload.iss !== rules.issuer) fail('ERR_JWT_ISSUER_MISMATCH', 'unexpected "iss" claim value');
  if (!audienceMatches(payload.aud, rules.audiences)) fail('ERR_JWT_AUD_MISMATCH', 'unexpected "aud" claim value');
  const now = Math.floor(rules.nowMs / 1000);
  if (payload.iat !== undefined && typeof payload.iat !== 'number') fail('ERR_JWT_CLAIM_INVALID', '"iat" claim must be a number');
  const { nbf, exp } = payload;
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') fail('ERR_JWT_NOT_YET_VALID', '"nbf" claim must be a number');
    if (nbf > now + rules.toleranceSeconds) fail('ERR_JWT_NOT_YET_VALID', '"nbf" claim timestamp check failed');
  }
  if (typeof exp !== 'number') return fail('ERR_JWT_CLAIM_INVALID', '"exp" claim must be a number');
  if (exp <= now - rules.toleranceSeconds) fail('ERR_JWT_EXPIRED', '"exp" claim timestamp check failed');
  return exp;
}

function requireClaim(payload: Payload, claim: string, code: IdentityErrorCode): void {
  if (!Object.hasOwn(payload, claim)) fail(code, `missing required "${claim}" claim`);
}

function audienceMatches(aud: unknown, audiences: readonly string[]): boolean {
  if (typeof aud === 'string') return audiences.includes(aud);
  return Array.isArray(aud) && audiences.some((accepted) => aud.includes(accepted));
}

function fail(code: IdentityErrorCode, message: string): never {
  throw new IdentityError(code, 'token', message);
}
