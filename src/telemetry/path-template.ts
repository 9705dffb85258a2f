/**
 * Generalizes a concrete request path into a policy path template: segments that look like
 * identifiers (numbers, UUIDs, long hex, opaque tokens, prefixed ids) become `{*}`. Pure; shared by the flow
 * graph and `meshwarden learn`, so learned policies and observed flows speak the same templates.
 */

export const ANY_SEGMENT = '{*}';

const DIGITS = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LONG_HEX = /^[0-9a-f]{8,}$/i;
const HAS_DIGIT = /\d/;
const HAS_LETTER = /[a-z]/i;
const HAS_UPPER = /[A-Z]/;
const HAS_LOWER = /[a-z]/;
const TOKEN_CHARS = /^[A-Za-z0-9._~+=-]+$/;
const SEPARATORS = /[-_.]/;
/**
 * A short type prefix, one separator, then a number or an opaque run with a digit: `ch_1234`,
 * `sku-0001`, `e_1`, `cus_9f8e7d6c`. `api-v2` (too short a run) and `annual-report-2024` (two
 * separators: words) are not ids.
 */
const PREFIXED_ID = /^[A-Za-z]{1,5}[-_](?:\d+|(?=[A-Za-z]*\d)[A-Za-z0-9]{6,})$/;

/** What an identifier-like segment looks like, as `meshwarden learn` reports it. */
export type IdentifierKind = 'number' | 'uuid' | 'hex' | 'opaque token' | 'prefixed id';

/** Long enough that a letters-and-digits piece is an id rather than a word like `v2` or `page10`. */
const OPAQUE_MIN_LENGTH = 16;
/** Base62 ids (mixed case and digits) are shorter, e.g. an 11-character video id. */
const BASE62_MIN_LENGTH = 10;

/** `/users/12345/orders/6f1c…` → `/users/{*}/orders/{*}`; keeps slashes, empty segments and words. */
export function templatePath(path: string): string {
  return path.split('/').map(templateSegment).join('/');
}

/** One segment: `{*}` when it looks like an identifier, itself otherwise. */
export function templateSegment(segment: string): string {
  return identifierKind(segment) === undefined ? segment : ANY_SEGMENT;
}

/** Every identifier shape below has a digit, except a UUID made only of the letters a–f. */
const UUID_LENGTH = 36;

/** The kind of identifier the segment looks like, or undefined for a word (kept as it is). */
export function identifierKind(segment: string): IdentifierKind | undefined {
  if (segment.length === 0 || segment === ANY_SEGMENT) return undefined;
  // Most segments are words: one scan settles them (templating runs on every observed request).
  if (segment.length !== UUID_LENGTH && !HAS_DIGIT.test(segment)) return undefined;
  if (DIGITS.test(segment)) return 'number';
  if (UUID.test(segment)) return 'uuid';
  if (LONG_HEX.test(segment) && HAS_DIGIT.test(segment)) return 'hex';
  if (isOpaqueToken(segment)) return 'opaque token';
  return PREFIXED_ID.test(segment) ? 'prefixed id' : undefined;
}

/**
 * Opaque tokens (base64url, JWT-like, random ids) mix letters and digits with no word
 * structure. A slug such as `annual-report-2024` is words joined by separators: kept.
 */
function isOpaqueToken(segment: string): boolean {
  if (!TOKEN_CHARS.test(segment)) return false;
  return segment.split(SEPARATORS).some(isOpaquePiece);
}

function isOpaquePiece(piece: string): boolean {
  if (!HAS_DIGIT.test(piece) || !HAS_LETTER.test(piece)) return false;
  if (piece.length >= OPAQUE_MIN_LENGTH) return true;
  return piece.length >= BASE62_MIN_LENGTH && HAS_UPPER.test(piece) && HAS_LOWER.test(piece);
}
