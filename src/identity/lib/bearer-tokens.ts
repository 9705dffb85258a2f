/**
 * Bearer tokens from request headers (RFC 6750 §2.1). Another scheme (Basic, ...) is not our
 * credential and is left to the upstream; a Bearer value we cannot read exactly is refused,
 * since joined repeated headers ("Bearer a,Bearer b") are how tokens get smuggled.
 */
import { IdentityError } from '../errors.js';

// the usual case in one scan: a compact JWS, whose shape decodeJwt then need not scan again
const BEARER_JWS = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) *$/i;
const RAW_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BEARER_PREFIX = /^bearer(?: |$)/i;
const BEARER = /^bearer +([A-Za-z0-9._~+/=-]+) *$/i;
const RAW_TOKEN = /^[A-Za-z0-9._~+/=-]+$/;

export interface TokenSource {
  readonly header: string;
  readonly token: string;
  /** Three non-empty base64url parts joined by dots: checked here, in the same scan. */
  readonly jwsShaped: boolean;
}

/** Tokens of `authorization` and, when configured, of the JWT-SVID header (which may be bare). */
export function bearerTokens(headers: ReadonlyMap<string, string>, svidHeader: string | undefined): TokenSource[] {
  const found: TokenSource[] = [];
  const authorization = headers.get('authorization');
  const token = authorization === undefined ? undefined : bearerOf('authorization', authorization, false);
  if (token !== undefined) found.push(token);
  if (svidHeader !== undefined && svidHeader !== 'authorization') {
    const value = headers.get(svidHeader);
    const svid = value === undefined ? undefined : bearerOf(svidHeader, value, true);
    if (svid !== undefined) found.push(svid);
  }
  return found;
}

function bearerOf(header: string, value: string, bareAllowed: boolean): TokenSource | undefined {
  const jws = BEARER_JWS.exec(value)?.[1] ?? (bareAllowed && RAW_JWS.test(value) ? value : undefined);
  if (jws !== undefined) return { header, token: detached(jws, value), jwsShaped: true };
  const token = otherToken(value, bareAllowed);
  return token === undefined ? undefined : { header, token: detached(token, value), jwsShaped: false };
}

/** Slack beyond "Bearer " that a token may keep alive: the token cache holds tokens, not headers. */
const SLICE_SLACK = 16;

/**
 * A token cut out of a header value is a slice that keeps the whole value alive; when the value
 * is much longer (padding spaces), the token is copied, so a cached token costs its own length.
 */
function detached(token: string, value: string): string {
  return value.length - token.length <= SLICE_SLACK ? token : Buffer.from(token, 'latin1').toString('latin1');
}

function otherToken(value: string, bareAllowed: boolean): string | undefined {
  if (BEARER_PREFIX.test(value)) {
    const match = BEARER.exec(value);
    if (match === null) throw new IdentityError('ERR_BEARER_MALFORMED', 'token', 'malformed Bearer credentials');
    return match[1];
  }
  if (!bareAllowed) return undefined;
  if (!RAW_TOKEN.test(value)) throw new IdentityError('ERR_BEARER_MALFORMED', 'token', 'malformed token header');
  return value;
}
