/**
 * Decodes a compact JWS without trusting it: size first (before any work), then exactly three
 * strict base64url parts, UTF-8 JSON objects for header and payload, an allowed `alg`, no
 * `crit`. Routing needs the claims before a key is chosen; the signature is verified afterwards.
 * Header parameters that point at keys (jku, x5u, jwk, x5c) are never read.
 */
import { isUtf8 } from 'node:buffer';
import { IdentityError, type IdentityErrorCode } from '../errors.js';
import { ALLOWED_ALGS, isAllowedAlg, type JwsAlgorithm } from './jws-algorithms.js';

export { ALLOWED_ALGS } from './jws-algorithms.js';

export interface DecodedJwt {
  readonly token: string;
  readonly alg: JwsAlgorithm;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `header.payload` as sent: what the signature covers. */
  readonly signingInput: string;
  /** The signature part, base64url. */
  readonly signature: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** `shapeChecked`: the caller already matched three base64url parts (bearer-tokens.ts), so no part is scanned again. */
export function decodeJwt(token: string, maxBytes: number, shapeChecked = false): DecodedJwt {
  if (token.length > maxBytes) fail('ERR_JWT_TOO_LARGE', `token longer than ${maxBytes} bytes`);
  const parts = token.split('.');
  if (parts.length === 5) fail('ERR_JWT_ENCRYPTED', 'token is a JWE; only signed JWTs are accepted');
  if (parts.length !== 3) fail('ERR_JWT_MALFORMED', 'token must have three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeObject(headerPart, 'ERR_JWT_HEADER_NOT_OBJECT', 'header', shapeChecked);
  const alg = checkHeader(header);
  const payload = decodeObject(payloadPart, 'ERR_JWT_PAYLOAD_NOT_OBJECT', 'payload', shapeChecked);
  if (!isBase64Url(signaturePart, shapeChecked)) fail('ERR_JWT_BASE64', 'signature is not base64url');
  const signingInput = token.slice(0, headerPart.length + 1 + payloadPart.length);
  return { token, alg, header, payload, signingInput, signature: signaturePart };
}

function fail(code: IdentityErrorCode, message: string): never {
  throw new IdentityError(code, 'token', message);
}

function isBase64Url(part: string, charsChecked: boolean): boolean {
  return part.length % 4 !== 1 && (charsChecked || BASE64URL.test(part));
}

function decodeObject(
  part: string,
  notObject: IdentityErrorCode,
  what: string,
  charsChecked: boolean,
): Readonly<Record<string, unknown>> {
  if (!isBase64Url(part, charsChecked)) fail('ERR_JWT_BASE64', `${what} is not base64url`);
  const bytes = Buffer.from(part, 'base64url');
  // JSON text is UTF-8 (RFC 8259 §8.1); a lenient decode would let two byte strings mean one claim
  if (!isUtf8(bytes)) fail('ERR_JWT_MALFORMED', `${what} is not UTF-8`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('ERR_JWT_JSON', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(notObject, `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function checkHeader(header: Readonly<Record<string, unknown>>): JwsAlgorithm {
  const alg = header.alg;
  if (!isAllowedAlg(alg)) {
    fail('ERR_JWT_ALG_NOT_ALLOWED', `alg ${JSON.stringify(alg)?.slice(0, 16)} is not one of ${ALLOWED_ALGS.join(', ')}`);
  }
  // no extension is understood here, so any critical one must be refused (RFC 7515 §4.1.11)
  if ('crit' in header) fail('ERR_JWT_CRIT_UNSUPPORTED', 'token has critical header parameters');
  return alg;
}
