/**
 * One gRPC call as a method handler sees it, whichever transport carries it (ours on
 * node:http2, or grpc-js'). Every method is safe after the client went away, and a call
 * ends at most once: the transport, not the handler, owns that rule.
 */
import type { GrpcStatusCode } from './grpc-status.js';

export interface GrpcCall {
  /** True once the call has a final status or the client has gone. */
  readonly ended: boolean;
  /** Runs `handler` once the call is over, however it ended: answered, failed, cancelled. */
  onClose(handler: () => void): void;
  /** The unary answer: the message, then OK. */
  reply(message: Uint8Array): void;
  /** One message of a server stream. */
  send(message: Uint8Array): void;
  /** Ends the call with a status (trailers-only when nothing was sent yet). */
  fail(code: GrpcStatusCode, message: string): void;
  /** One of the call's metadata (request headers), by lower-case name; read only by a Check that is traced. */
  header(name: string): string | undefined;
}

/** A method's whole server side: its one request message (already decompressed), and the call to answer on. */
export interface GrpcMethodHandler {
  (request: Buffer, call: GrpcCall): void;
  /**
   * How this method answers a request the transport refused before the handler saw it (too
   * large, malformed, an unknown encoding), when a gRPC error is the wrong answer: for Check,
   * Envoy takes any gRPC error as a failure of the authorization service, which
   * `failure_mode_allow: true` lets through. Absent: the transport fails the call.
   */
  readonly answerRefusal?: (code: GrpcStatusCode, message: string, respond: (response: Uint8Array) => void) => void;
}
