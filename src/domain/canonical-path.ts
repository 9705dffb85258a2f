/**
 * Path and host canonicalization: the one place that decides which request paths and
 * hosts policies see. Pure string functions, no Envoy or HTTP knowledge.
 *
 * The rules answer the known bypass families (Istio CVE-2021-31920: `%2F` and `//`;
 * CVE-2021-39156: `#` fragments): two spellings an upstream would treat as one resource
 * must canonicalize to one string, and a spelling whose meaning depends on the upstream
 * (an encoded slash, a backslash, a NUL) is rejected, never allowed.
 *
 * Choices worth knowing:
 * - `;` parameters are kept literally (`/admin;x=1` stays so). Envoy forwards them, and
 *   servers differ on what they mean, so matching must see them: write `/admin*` to cover
 *   `/admin;jsessionid=…`. A dot segment with parameters (`..;`), which some servers
 *   resolve as `..`, is ambiguous and rejected.
 * - A trailing slash is kept: `/a/` and `/a` are different resources to many servers.
 * - Percent-encodings of unreserved characters are decoded; all others stay encoded with
 *   upper-case hex, and characters not allowed in a path (space, non-ASCII, …) are
 *   encoded, so `/café`, `/caf%c3%a9` and `/caf%C3%A9` are one path.
 */

export type CanonicalizationErrorCode =
  | 'not_absolute'
  | 'encoded_slash'
  | 'encoded_backslash'
  | 'backslash'
  | 'control_character'
  | 'malformed_percent_encoding'
  | 'invalid_character'
  | 'ambiguous_dot_segment'
  | 'invalid_host';

export class CanonicalizationError extends Error {
  override readonly name = 'CanonicalizationError';
  readonly code: CanonicalizationErrorCode;
  /** The input that was refused. */
  readonly input: string;

  constructor(code: CanonicalizationErrorCode, input: string, message: string) {
    super(message);
    this.code = code;
    this.input = input;
  }
}

export interface CanonicalPathOptions {
  /**
   * Decode `%2F`/`%5C` to `/` (then canonicalize) instead of rejecting them. Only for
   * upstreams that decode them the same way (Envoy `UNESCAPE_AND_FORWARD`); a decoded
   * backslash is taken as a separator, as WHATWG URL parsers and Windows servers take it.
   */
  readonly decodeEncodedSlashes?: boolean;
}

// Character classes of the ASCII range, computed once.
const PLAIN = 1; // kept literally: unreserved, sub-delims, ':', '@', '/'
const ENCODE = 2; // not allowed in a path: percent-encoded
const PERCENT = 3;
const BACKSLASH = 4;
const CONTROL = 5;
const CLASS = buildClasses();

function buildClasses(): Uint8Array {
  const table = new Uint8Array(128).fill(ENCODE);
  const plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/";
  for (const c of plain) table[c.charCodeAt(0)] = PLAIN;
  for (let i = 0; i < 0x20; i++) table[i] = CONTROL;
  table[0x7f] = CONTROL;
  table[0x25] = PERCENT;
  table[0x5c] = BACKSLASH;
  return table;
}

const UNRESERVED = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;

const SLASH = 0x2f;
const DOT = 0x2e;

/** The canonical path of a request target (`/a/b?q#f` → `/a/b`). Throws CanonicalizationError. */
export function canonicalizePath(target: string, options: CanonicalPathOptions = {}): string {
  const path = target.slice(0, pathEnd(target));
  if (path.charCodeAt(0) !== SLASH) {
    throw new CanonicalizationError('not_absolute', target, 'path must start with "/"');
  }
  if (isAlreadyCanonical(path)) return path;
  return resolveDotSegments(decodePath(path, target, options.decodeEncodedSlashes === true), target);
}

/** The query of a request target, without `?` and without any fragment ('' when none). */
export function queryOf(target: string): string {
  const question = pathEnd(target);
  if (target.charCodeAt(question) !== 0x3f) return ''; // no '?', or a fragment came first
  const hash = target.indexOf('#', question);
  return target.slice(question + 1, hash < 0 ? target.length : hash);
}

function pathEnd(target: string): number {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return i; // '?' or '#'
  }
  return target.length;
}

/** The hot-path shortcut: plain characters, no `//`, no segment starting with a dot. */
function isAlreadyCanonical(path: string): boolean {
  let previous = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c >= 128 || CLASS[c] !== PLAIN) return false;
    if (previous === SLASH && (c === SLASH || c === DOT)) return false;
    previous = c;
  }
  return true;
}

function decodePath(path: string, target: string, decodeSlashes: boolean): string {
  let out = '';
  let i = 0;
  while (i < path.length) {
    const c = path.charCodeAt(i);
    const kind = c < 128 ? CLASS[c] : ENCODE;
    if (kind === PLAIN) {
      out += path[i];
      i += 1;
    } else if (kind === PERCENT) {
      out += decodePercent(path, i, target, decodeSlashes);
      i += 3;
    } else if (kind === ENCODE) {
      const end = encodeRunEnd(path, i);
      out += encodeRun(path.slice(i, end), target);
      i = end;
    } else if (kind === BACKSLASH) {
      throw new CanonicalizationError('backslash', target, 'path contains a backslash');
    } else {
      throw new CanonicalizationError('control_character', target, 'path contains a control character');
    }
  }
  return out;
}

function decodePercent(path: string, at: number, target: string, decodeSlashes: boolean): string {
  const byte = (hexValue(path.charCodeAt(at + 1)) << 4) | hexValue(path.charCodeAt(at + 2));
  if (byte < 0) {
    throw new CanonicalizationError('malformed_percent_encoding', target, `bad percent-encoding at offset ${at}`);
  }
  if (byte < 128 && UNRESERVED[byte] === 1) return String.fromCharCode(byte);
  if (byte === 0x2f || byte === 0x5c) {
    if (decodeSlashes) return '/';
    const code = byte === 0x2f ? 'encoded_slash' : 'encoded_backslash';
    throw new CanonicalizationError(code, target, `path contains an encoded ${byte === 0x2f ? 'slash' : 'backslash'}`);
  }
  if (byte < 0x20 || byte === 0x7f) {
    throw new CanonicalizationError('control_character', target, 'path contains an encoded control character');
  }
  return '%' + HEX[byte >> 4] + HEX[byte & 15];
}

const HEX = '0123456789ABCDEF';

/** 0–15 for a hex digit; a large negative number otherwise, so a bad pair stays negative. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -0x1000;
}

function encodeRunEnd(path: string, from: number): number {
  let end = from;
  while (end < path.length) {
    const c = path.charCodeAt(end);
    if (c < 128 && CLASS[c] !== ENCODE) break;
    end += 1;
  }
  return end;
}

function encodeRun(run: string, target: string): string {
  try {
    return encodeURIComponent(run); // UTF-8, upper-case hex
  } catch {
    throw new CanonicalizationError('invalid_character', target, 'path contains an unpaired surrogate');
  }
}

/** RFC 3986 remove_dot_segments, plus merging empty segments; never climbs above `/`. */
function resolveDotSegments(path: string, target: string): string {
  const input = path.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < input.length; i++) {
    const segment = input[i] as string;
    trailingSlash = segment === '' || segment === '.' || segment === '..';
    if (segment === '..') out.pop();
    else if (!trailingSlash) out.push(checkedSegment(segment, target));
  }
  if (out.length === 0) return '/';
  return '/' + out.join('/') + (trailingSlash ? '/' : '');
}

function checkedSegment(segment: string, target: string): string {
  const semicolon = segment.indexOf(';');
  if (semicolon === 1 || semicolon === 2) {
    const base = segment.slice(0, semicolon);
    if (base === '.' || base === '..') {
      throw new CanonicalizationError('ambiguous_dot_segment', target, `dot segment with parameters: "${segment}"`);
    }
  }
  return segment;
}

const HOST_CHAR = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789-._~') HOST_CHAR[c.charCodeAt(0)] = 1;
const IPV6_CHAR = new Uint8Array(128);
for (const c of '0123456789abcdef:.') IPV6_CHAR[c.charCodeAt(0)] = 1;

/**
 * The canonical host of an authority: lower case, no port, no trailing dot; an IPv6
 * literal keeps its brackets (`[::1]:8080` → `[::1]`). '' stays '' (no Host at all).
 */
export function canonicalizeHost(authority: string): string {
  // before lower-casing, which turns some characters outside ASCII into ASCII (the Kelvin sign into k)
  for (let i = 0; i < authority.length; i++) {
    if (authority.charCodeAt(i) >= 128) throw new CanonicalizationError('invalid_host', authority, `host contains "${authority[i]}"`);
  }
  const lower = authority.toLowerCase();
  const bracketed = lower.charCodeAt(0) === 0x5b; // '['
  const end = bracketed ? ipv6End(lower, authority) : hostEnd(lower, authority);
  let host = lower.slice(0, end);
  if (!bracketed && host.endsWith('.')) host = host.slice(0, -1);
  const allowed = bracketed ? IPV6_CHAR : HOST_CHAR;
  const inner = bracketed ? host.slice(1, -1) : host;
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c >= 128 || allowed[c] !== 1) {
      throw new CanonicalizationError('invalid_host', authority, `host contains "${inner[i]}"`);
    }
  }
  if (!bracketed && (host.endsWith('.') || host.startsWith('.'))) {
    throw new CanonicalizationError('invalid_host', authority, 'host has an empty label');
  }
  return host;
}

function ipv6End(lower: string, authority: string): number {
  const close = lower.indexOf(']');
  if (close < 0 || !isPortSuffix(lower, close + 1)) {
    throw new CanonicalizationError('invalid_host', authority, 'malformed IPv6 literal');
  }
  return close + 1;
}

function hostEnd(lower: string, authority: string): number {
  const colon = lower.indexOf(':');
  if (colon < 0) return lower.length;
  if (!isPortSuffix(lower, colon)) {
    throw new CanonicalizationError('invalid_host', authority, 'malformed port');
  }
  return colon;
}

/** Nothing, or ':' followed by at most five digits (an empty port is allowed by RFC 3986). */
function isPortSuffix(text: string, at: number): boolean {
  if (at === text.length) return true;
  if (text.charCodeAt(at) !== 0x3a || text.length - at - 1 > 5) return false;
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
