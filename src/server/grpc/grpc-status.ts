/**
 * gRPC status codes (the closed set the gRPC spec defines, by name) and the percent-encoding
 * the spec requires of `grpc-message`.
 */

export const GrpcStatus = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
});

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** A call ended with a status other than OK; `message` goes to the client as `grpc-message`. */
export class GrpcCallError extends Error {
  override readonly name = 'GrpcCallError';
  constructor(
    readonly code: GrpcStatusCode,
    message: string,
  ) {
    super(message);
  }
}

const PRINTABLE_WITHOUT_PERCENT = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * `grpc-message` is percent-encoded UTF-8: every byte outside printable ASCII, and `%`
 * itself, becomes `%XX` (gRPC over HTTP/2, "Responses"). A lone surrogate, which has no
 * UTF-8, is sent as U+FFFD rather than failing the answer.
 */
export function encodeStatusMessage(message: string): string {
  if (PRINTABLE_WITHOUT_PERCENT.test(message)) return message;
  let encoded = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
