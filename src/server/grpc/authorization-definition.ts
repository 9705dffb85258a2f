/**
 * The grpc-js service definition of `envoy.service.auth.v3.Authorization`, written by hand
 * so requests and responses go straight through our protobufjs codecs: no proto-loader
 * object conversion on the hot path.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import {
  decodeCheckRequest,
  decodeCheckResponse,
  encodeCheckRequest,
  encodeCheckResponse,
  type CheckRequestMessage,
  type CheckResponseMessage,
} from '../../envoy/index.js';

export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';
export const CHECK_METHOD_PATH = `/${AUTHORIZATION_SERVICE_NAME}/Check`;

/**
 * Stands for a request whose bytes did not decode. Deserializers must not throw: grpc-js
 * would answer with a bare INTERNAL status, which Envoy treats as an error (and lets
 * through under `failure_mode_allow`); this way the handler still answers with a CheckResponse.
 */
export const UNREADABLE_REQUEST: CheckRequestMessage = Object.freeze({});

function decodeOrMark(bytes: Buffer): CheckRequestMessage {
  try {
    return decodeCheckRequest(bytes);
  } catch {
    return UNREADABLE_REQUEST;
  }
}

export const authorizationServiceDefinition = {
  Check: {
    path: CHECK_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeCheckRequest,
    requestDeserialize: decodeOrMark,
    responseSerialize: encodeCheckResponse,
    responseDeserialize: decodeCheckResponse,
    originalName: 'check',
  } satisfies MethodDefinition<CheckRequestMessage, CheckResponseMessage>,
};
