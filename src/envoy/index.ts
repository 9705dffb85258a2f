/** The Envoy wire adapter: CheckRequest → AccessRequest, Decision → CheckResponse, and their codec. */
export { toAccessRequest, type AccessRequestOptions } from './to-access-request.js';
export { toCheckResponse, decisionMetadata, DEFAULT_PRINCIPAL_HEADER, type ResponseContext } from './to-check-response.js';
export { checkRequestWithinLimits, type CheckRequestLimits } from './request-limits.js';
export { InvalidRequestError, type InvalidRequestCode } from './invalid-request-error.js';
export { VERDICT_STATUS, type VerdictStatus } from './verdict-status.js';
export {
  decodeCheckRequest,
  encodeCheckRequest,
  decodeCheckResponse,
  encodeCheckResponse,
  loadTrimmedProtos,
  PROTO_DIR,
  EXT_AUTHZ_PROTO,
} from './check-codec.js';
export { structToJson, flatJsonToStruct, type JsonValue, type FlatJson } from './struct-json.js';
export type * from './wire-messages.js';
export { OVERWRITE_IF_EXISTS_OR_ADD } from './wire-messages.js';
export {
  fromHttpServiceRequest,
  CONTEXT_HEADER_PREFIX,
  DESTINATION_PRINCIPAL_HEADER,
  SOURCE_ADDRESS_HEADER,
  SOURCE_PRINCIPAL_HEADER,
  type HttpServiceOptions,
  type HttpServiceRequest,
} from './from-http-service.js';
export { toHttpServiceAnswer, HEADERS_TO_REMOVE_HEADER, type HttpServiceAnswer } from './to-http-service-answer.js';
