/**
 * The one error type of the envoy/ adapter: a CheckRequest that cannot become an
 * AccessRequest. The codes are reason codes of the domain, so they double as metric labels;
 * `attribute` names the part of the request that was wrong.
 */
import type { ReasonCode } from '../domain/index.js';

export type InvalidRequestCode = Extract<
  ReasonCode,
  'missing_http_attributes' | 'missing_connection_attributes' | 'invalid_sni' | 'invalid_path' | 'invalid_header' | 'request_too_large'
>;

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  readonly code: InvalidRequestCode;
  /** e.g. `attributes.request.http.path`, or `header:x-forwarded-for`. */
  readonly attribute: string;

  constructor(code: InvalidRequestCode, attribute: string, message: string) {
    super(message);
    this.code = code;
    this.attribute = attribute;
  }
}
