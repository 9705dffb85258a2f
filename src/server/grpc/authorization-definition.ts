/**
 * `envoy.service.auth.v3.Authorization` on the wire: the method path, and the request
 * decoder the server runs on every Check (our protobufjs codec, no object conversion).
 */
import { decodeCheckRequest, type CheckRequestMessage } from '../../envoy/index.js';

export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';
export const CHECK_METHOD_PATH = `/${AUTHORIZATION_SERVICE_NAME}/Check`;

/**
 * Stands for a request whose bytes did not decode. Decoding must not end the call with a
 * gRPC error: Envoy treats that as a failure of the authorization service (and lets the
 * request through under `failure_mode_allow`); this way the handler still answers with a
 * CheckResponse (400).
 */
export const UNREADABLE_REQUEST: CheckRequestMessage = Object.freeze({});

export function decodeOrMark(bytes: Uint8Array): CheckRequestMessage {
  try {
    return decodeCheckRequest(bytes);
  } catch {
    return UNREADABLE_REQUEST;
  }
}
