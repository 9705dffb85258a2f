/**
 * SPIFFE ID parsing, as the SPIFFE-ID standard says: `spiffe://` + trust domain of
 * [a-z0-9.-_] + path segments of [a-zA-Z0-9.-_], no empty/./.. segment, no trailing slash,
 * no percent-encoding, query, fragment, port or user info, at most 2048 bytes.
 */
import type { SpiffeId } from '../domain/spiffe-id.js';

export type SpiffeIdErrorCode =
  | 'ERR_SPIFFE_EMPTY'
  | 'ERR_SPIFFE_TOO_LONG'
  | 'ERR_SPIFFE_SCHEME'
  | 'ERR_SPIFFE_TRUST_DOMAIN_MISSING'
  | 'ERR_SPIFFE_TRUST_DOMAIN_CHAR'
  | 'ERR_SPIFFE_PATH_EMPTY_SEGMENT'
  | 'ERR_SPIFFE_PATH_DOT_SEGMENT'
  | 'ERR_SPIFFE_PATH_CHAR'
  | 'ERR_SPIFFE_TRAILING_SLASH';

export class SpiffeIdError extends Error {
  constructor(
    readonly code: SpiffeIdErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SpiffeIdError';
  }
}

const MAX_BYTES = 2048;
const SCHEME = 'spiffe://';
const TRUST_DOMAIN_CHARS = /^[a-z0-9._-]+$/;
const SEGMENT_CHARS = /^[a-zA-Z0-9._-]+$/;

export function parseSpiffeId(text: string): SpiffeId {
  if (text.length === 0) throw new SpiffeIdError('ERR_SPIFFE_EMPTY', 'SPIFFE ID is empty');
  if (Buffer.byteLength(text) > MAX_BYTES) {
    throw new SpiffeIdError('ERR_SPIFFE_TOO_LONG', `SPIFFE ID exceeds ${MAX_BYTES} bytes`);
  }
  if (!text.startsWith(SCHEME)) {
    throw new SpiffeIdError('ERR_SPIFFE_SCHEME', 'SPIFFE ID must start with spiffe://');
  }
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  if (trustDomain.length === 0) {
    throw new SpiffeIdError('ERR_SPIFFE_TRUST_DOMAIN_MISSING', 'SPIFFE ID has no trust domain');
  }
  if (!TRUST_DOMAIN_CHARS.test(trustDomain)) {
    throw new SpiffeIdError(
      'ERR_SPIFFE_TRUST_DOMAIN_CHAR',
      'trust domain may hold only a-z, 0-9, ".", "-" and "_" (no port, user info or upper case)',
    );
  }
  validatePath(path);
  return Object.freeze({ trustDomain, path, uri: text });
}

export function tryParseSpiffeId(text: string): SpiffeId | undefined {
  try {
    return parseSpiffeId(text);
  } catch {
    return undefined;
  }
}

function validatePath(path: string): void {
  if (path === '') return;
  if (path === '/' || path.endsWith('/')) {
    throw new SpiffeIdError('ERR_SPIFFE_TRAILING_SLASH', 'SPIFFE ID path must not end with "/"');
  }
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') {
      throw new SpiffeIdError('ERR_SPIFFE_PATH_EMPTY_SEGMENT', 'SPIFFE ID path has an empty segment');
    }
    if (segment === '.' || segment === '..') {
      throw new SpiffeIdError('ERR_SPIFFE_PATH_DOT_SEGMENT', 'SPIFFE ID path has a "." or ".." segment');
    }
    if (!SEGMENT_CHARS.test(segment)) {
      throw new SpiffeIdError(
        'ERR_SPIFFE_PATH_CHAR',
        'SPIFFE ID path segments may hold only a-z, A-Z, 0-9, ".", "-" and "_"',
      );
    }
  }
}
