/**
 * SPIFFE ID parsing, exactly as the SPIFFE-ID standard says: `spiffe://` + trust domain of
 * [a-z0-9._-] (at most 255 bytes) + optional path of segments of [a-zA-Z0-9._-], no empty,
 * "." or ".." segment, no trailing slash, no percent-encoding, query, fragment, port or user
 * info, at most 2048 bytes. Every rejection has its own code, so logs say what was wrong.
 */
import type { SpiffeId } from './spiffe-id.js';

export type SpiffeIdErrorCode =
  | 'ERR_SPIFFE_EMPTY'
  | 'ERR_SPIFFE_TOO_LONG'
  | 'ERR_SPIFFE_SCHEME'
  | 'ERR_SPIFFE_TRUST_DOMAIN_MISSING'
  | 'ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG'
  | 'ERR_SPIFFE_TRUST_DOMAIN_CHAR'
  | 'ERR_SPIFFE_USER_INFO'
  | 'ERR_SPIFFE_PORT'
  | 'ERR_SPIFFE_QUERY'
  | 'ERR_SPIFFE_FRAGMENT'
  | 'ERR_SPIFFE_PERCENT_ENCODED'
  | 'ERR_SPIFFE_PATH_EMPTY_SEGMENT'
  | 'ERR_SPIFFE_PATH_DOT_SEGMENT'
  | 'ERR_SPIFFE_PATH_CHAR'
  | 'ERR_SPIFFE_TRAILING_SLASH';

export class SpiffeIdError extends Error {
  override readonly name = 'SpiffeIdError';
  constructor(
    readonly code: SpiffeIdErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BYTES = 2048;
const MAX_TRUST_DOMAIN_BYTES = 255;
const SCHEME = 'spiffe://';
const TRUST_DOMAIN_CHARS = /^[a-z0-9._-]+$/;
const SEGMENT_CHARS = /^[a-zA-Z0-9._-]+$/;

/** Parses `text` as a SPIFFE ID; throws SpiffeIdError with the first rule it breaks. */
export function parseSpiffeId(text: string): SpiffeId {
  checkLength(text);
  if (!text.startsWith(SCHEME)) fail('ERR_SPIFFE_SCHEME', 'must start with "spiffe://" (lower case)');
  const rest = text.slice(SCHEME.length);
  checkQueryAndFragment(rest);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  checkTrustDomain(trustDomain);
  const path = slash === -1 ? '' : rest.slice(slash);
  checkPath(path);
  return Object.freeze({ trustDomain, path, uri: text });
}

/** parseSpiffeId that answers undefined instead of throwing (for callers that only ask). */
export function tryParseSpiffeId(text: string): SpiffeId | undefined {
  try {
    return parseSpiffeId(text);
  } catch {
    return undefined;
  }
}

/** Validates a configured trust domain name (as in `spiffe://NAME`, no path). */
export function isTrustDomainName(name: string): boolean {
  const id = tryParseSpiffeId(SCHEME + name);
  return id !== undefined && id.path === '';
}

function fail(code: SpiffeIdErrorCode, message: string): never {
  throw new SpiffeIdError(code, `invalid SPIFFE ID: ${message}`);
}

function checkLength(text: string): void {
  if (text.length === 0) fail('ERR_SPIFFE_EMPTY', 'empty');
  // length counts UTF-16 units, each at least one byte: the byte count is only needed near the limit
  if (text.length > MAX_BYTES || Buffer.byteLength(text) > MAX_BYTES) {
    fail('ERR_SPIFFE_TOO_LONG', `longer than ${MAX_BYTES} bytes`);
  }
}

/** Whichever of `?` and `#` comes first starts the query or the fragment (RFC 3986). */
function checkQueryAndFragment(rest: string): void {
  const query = rest.indexOf('?');
  const fragment = rest.indexOf('#');
  if (query !== -1 && (fragment === -1 || query < fragment)) fail('ERR_SPIFFE_QUERY', 'has a query');
  if (fragment !== -1) fail('ERR_SPIFFE_FRAGMENT', 'has a fragment');
}

function checkTrustDomain(trustDomain: string): void {
  if (trustDomain.length === 0) fail('ERR_SPIFFE_TRUST_DOMAIN_MISSING', 'no trust domain');
  if (trustDomain.includes('@')) fail('ERR_SPIFFE_USER_INFO', 'has user info');
  if (trustDomain.includes(':')) fail('ERR_SPIFFE_PORT', 'has a port (or a ":")');
  if (trustDomain.includes('%')) fail('ERR_SPIFFE_PERCENT_ENCODED', 'trust domain is percent-encoded');
  if (!TRUST_DOMAIN_CHARS.test(trustDomain)) {
    fail('ERR_SPIFFE_TRUST_DOMAIN_CHAR', 'trust domain may hold only a-z, 0-9, ".", "-" and "_"');
  }
  if (trustDomain.length > MAX_TRUST_DOMAIN_BYTES) {
    fail('ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG', `trust domain longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`);
  }
}

function checkPath(path: string): void {
  if (path === '') return;
  if (path.endsWith('/')) fail('ERR_SPIFFE_TRAILING_SLASH', 'path ends with "/"');
  for (const segment of path.slice(1).split('/')) checkSegment(segment);
}

function checkSegment(segment: string): void {
  if (segment === '') fail('ERR_SPIFFE_PATH_EMPTY_SEGMENT', 'path has an empty segment');
  if (segment === '.' || segment === '..') fail('ERR_SPIFFE_PATH_DOT_SEGMENT', 'path has a "." or ".." segment');
  if (segment.includes('%')) fail('ERR_SPIFFE_PERCENT_ENCODED', 'path is percent-encoded');
  if (!SEGMENT_CHARS.test(segment)) {
    fail('ERR_SPIFFE_PATH_CHAR', 'path segments may hold only a-z, A-Z, 0-9, ".", "-" and "_"');
  }
}
