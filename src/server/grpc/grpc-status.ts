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

/**
 * `grpc-message` is percent-encoded: every byte outside printable ASCII, and `%` itself
 * (gRPC over HTTP/2, "Responses"). encodeURIComponent escapes too much, but a compliant
 * reader decodes any `%XX`, so over-escaping is safe; under-escaping would not be.
 */
export function encodeStatusMessage(message: string): string {
  return /^[\x20-\x24\x26-\x7e]*$/.test(message) ? message : encodeURIComponent(message);
}
