/**
 * The one table from a verdict to what Envoy is told: the gRPC status of the CheckResponse
 * and the HTTP status of the answer sent to the caller (Authorino's phases: identity fails
 * as 401, authorization as 403; a malformed request is 400).
 */
import type { Verdict } from '../domain/index.js';

export interface VerdictStatus {
  /** google.rpc.Code: Envoy lets the request through only on OK (0). */
  readonly grpc: number;
  readonly http: number;
  /** The `error` member of the JSON body sent to the caller. */
  readonly error: string;
}

export const VERDICT_STATUS: Readonly<Record<Verdict, VerdictStatus>> = Object.freeze({
  allow: { grpc: 0, http: 200, error: '' },
  deny: { grpc: 7, http: 403, error: 'forbidden' }, // PERMISSION_DENIED
  unauthenticated: { grpc: 16, http: 401, error: 'unauthenticated' }, // UNAUTHENTICATED
  invalid_request: { grpc: 3, http: 400, error: 'invalid_request' }, // INVALID_ARGUMENT
});
