/**
 * End-user claims that Envoy's jwt_authn filter already verified and wrote to
 * metadata_context (`payload_in_metadata`). Envoy did the crypto; we still insist the issuer
 * is one we configured, that an audience matches and that the token has not expired since.
 */
import type { AccessRequest, EndUser } from '../../domain/index.js';
import { IdentityError, type IdentityErrorCode } from '../errors.js';
import type { NormalizedIssuer } from '../options.js';

export interface MetadataContext {
  readonly filter: string;
  readonly payloadKey?: string;
  readonly issuers: ReadonlyMap<string, NormalizedIssuer>;
  readonly nowMs: number;
}

export function userFromMetadata(request: AccessRequest, ctx: MetadataContext): EndUser | undefined {
  const filter = request.filterMetadata[ctx.filter];
  if (!isObject(filter)) return undefined;
  const payload = pickPayload(filter, ctx.payloadKey);
  if (payload === undefined) return undefined;
  const issuer = typeof payload.iss === 'string' ? ctx.issuers.get(payload.iss) : undefined;
  if (issuer === undefined) fail('ERR_JWT_ISSUER_UNKNOWN', 'jwt_authn payload names an issuer that is not configured');
  return toUser(payload, issuer, ctx.nowMs);
}

function fail(code: IdentityErrorCode, message: string): never {
  throw new IdentityError(code, 'metadata', message);
}

function pickPayload(filter: Record<string, unknown>, payloadKey: string | undefined): Record<string, unknown> | undefined {
  if (payloadKey !== undefined) {
    const payload = filter[payloadKey];
    if (payload === undefined) return undefined;
    if (!isObject(payload)) fail('ERR_JWT_AUTHN_METADATA', `jwt_authn payload "${payloadKey}" is not an object`);
    return payload;
  }
  const payloads = Object.values(filter).filter(isObject);
  if (payloads.length > 1) fail('ERR_JWT_AUTHN_METADATA', 'several jwt_authn payloads: set jwtAuthnMetadata.payloadKey');
  return payloads[0];
}

function toUser(payload: Record<string, unknown>, issuer: NormalizedIssuer, nowMs: number): EndUser {
  const { sub, aud, exp, azp } = payload;
  if (typeof sub !== 'string' || sub === '') fail('ERR_JWT_SUB_MISSING', 'jwt_authn payload has no sub');
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : [];
  if (!audiences.some((a) => issuer.audiences.includes(a))) fail('ERR_JWT_AUD_MISMATCH', 'jwt_authn payload audience not accepted');
  if (typeof exp !== 'number') fail('ERR_JWT_EXP_MISSING', 'jwt_authn payload has no exp');
  if (exp * 1000 <= nowMs) fail('ERR_JWT_EXPIRED', 'jwt_authn payload has expired');
  return Object.freeze({
    principal: `${issuer.issuer}/${sub}`,
    issuer: issuer.issuer,
    subject: sub,
    audiences: Object.freeze(audiences),
    ...(typeof azp === 'string' ? { presenter: azp } : {}),
    claims: Object.freeze({ ...payload }),
    expiresAt: exp,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
