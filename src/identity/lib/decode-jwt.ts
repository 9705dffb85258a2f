/**
 * Decodes a compact JWS without trusting it: size first (before any work), then exactly three
 * strict base64url parts, JSON objects for header and payload, an allowed `alg`, no `crit`.
 * Routing needs the claims before a key is chosen; jose verifies the signature afterwards.
 * Header parameters that point at keys (jku, x5u, jwk, x5c) are never read.
 */
import { IdentityError, type IdentityErrorCode } from '../errors.js';

export interface DecodedJwt {
  readonly token: string;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Asymmetric algorithms only (JWT-SVID §3): HS* would let a public key act as a shared secret. */
export const ALLOWED_ALGS: readonly string[] = Object.freeze([
  'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512',
]);
const ALLOWED = new Set(ALLOWED_ALGS);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function decodeJwt(token: string, maxBytes: number): DecodedJwt {
  if (token.length > maxBytes) fail('ERR_JWT_TOO_LARGE', `token longer than ${maxBytes} bytes`);
  const parts = token.split('.');
  if (parts.length === 5) fail('ERR_JWT_ENCRYPTED', 'token is a JWE; only signed JWTs are accepted');
  if (parts.length !== 3) fail('ERR_JWT_MALFORMED', 'token must have three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeObject(headerPart, 'ERR_JWT_HEADER_NOT_OBJECT', 'header');
  checkHeader(header);
  const payload = decodeObject(payloadPart, 'ERR_JWT_PAYLOAD_NOT_OBJECT', 'payload');
  if (!isBase64Url(signaturePart)) fail('ERR_JWT_BASE64', 'signature is not base64url');
  return { token, header, payload };
}

function fail(code: IdentityErrorCode, message: string): never {
  throw new IdentityError(code, 'token', message);
}

function isBase64Url(part: string): boolean {
  return part.length % 4 !== 1 && BASE64URL.test(part);
}

function decodeObject(
  part: string,
  notObject: IdentityErrorCode,
  what: string,
): Readonly<Record<string, unknown>> {
  if (!isBase64Url(part)) fail('ERR_JWT_BASE64', `${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    fail('ERR_JWT_JSON', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(notObject, `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function checkHeader(header: Readonly<Record<string, unknown>>): void {
  const alg = header.alg;
  if (typeof alg !== 'string' || !ALLOWED.has(alg)) {
    fail('ERR_JWT_ALG_NOT_ALLOWED', `alg ${JSON.stringify(alg)?.slice(0, 16)} is not one of ${ALLOWED_ALGS.join(', ')}`);
  }
  // no extension is understood here, so any critical one must be refused (RFC 7515 §4.1.11)
  if ('crit' in header) fail('ERR_JWT_CRIT_UNSUPPORTED', 'token has critical header parameters');
}
