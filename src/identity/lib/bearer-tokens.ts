/**
 * Bearer tokens from request headers (RFC 6750 §2.1). Another scheme (Basic, ...) is not our
 * credential and is left to the upstream; a Bearer value we cannot read exactly is refused,
 * since joined repeated headers ("Bearer a,Bearer b") are how tokens get smuggled.
 */
import { IdentityError } from '../errors.js';

const BEARER_PREFIX = /^bearer(?: |$)/i;
const BEARER = /^bearer +([A-Za-z0-9._~+/=-]+) *$/i;
const RAW_TOKEN = /^[A-Za-z0-9._~+/=-]+$/;

export interface TokenSource {
  readonly header: string;
  readonly token: string;
}

/** Tokens of `authorization` and, when configured, of the JWT-SVID header (which may be bare). */
export function bearerTokens(headers: ReadonlyMap<string, string>, svidHeader: string | undefined): TokenSource[] {
  const found: TokenSource[] = [];
  const authorization = headers.get('authorization');
  const token = authorization === undefined ? undefined : bearerOf(authorization, false);
  if (token !== undefined) found.push({ header: 'authorization', token });
  if (svidHeader !== undefined && svidHeader !== 'authorization') {
    const value = headers.get(svidHeader);
    const svid = value === undefined ? undefined : bearerOf(value, true);
    if (svid !== undefined) found.push({ header: svidHeader, token: svid });
  }
  return found;
}

function bearerOf(value: string, bareAllowed: boolean): string | undefined {
  if (BEARER_PREFIX.test(value)) {
    const match = BEARER.exec(value);
    if (match === null) throw new IdentityError('ERR_BEARER_MALFORMED', 'token', 'malformed Bearer credentials');
    return match[1];
  }
  if (!bareAllowed) return undefined;
  if (!RAW_TOKEN.test(value)) throw new IdentityError('ERR_BEARER_MALFORMED', 'token', 'malformed token header');
  return value;
}
