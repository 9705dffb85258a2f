/**
 * The one error type of identity/: a closed set of codes, each mapped once to the domain
 * ReasonCode that the decision, the wire layer and the metrics use.
 */
import type { ReasonCode, SpiffeIdErrorCode } from '../domain/index.js';

const CODE_REASONS = {
  // the workload's own principal (source.principal, XFCC URI) is not a SPIFFE ID
  ERR_PRINCIPAL_NOT_SPIFFE: 'invalid_principal',
  ERR_TRUST_DOMAIN_UNTRUSTED: 'untrusted_trust_domain',
  // keys or roots were never loaded: deny, never allow
  ERR_TRUST_DOMAIN_UNAVAILABLE: 'identity_unavailable',
  ERR_JWKS_UNAVAILABLE: 'identity_unavailable',
  ERR_BUNDLE_EMPTY: 'invalid_certificate',
  // X.509-SVID
  ERR_X509_MISSING: 'invalid_certificate',
  ERR_X509_MALFORMED: 'invalid_certificate',
  ERR_X509_UNTRUSTED_CHAIN: 'invalid_certificate',
  ERR_X509_EXPIRED: 'invalid_certificate',
  ERR_X509_NOT_YET_VALID: 'invalid_certificate',
  ERR_X509_URI_SAN_COUNT: 'invalid_certificate',
  ERR_X509_URI_SAN_MISMATCH: 'invalid_certificate',
  ERR_X509_LEAF_IS_CA: 'invalid_certificate',
  ERR_X509_KEY_USAGE: 'invalid_certificate',
  ERR_X509_CRITICAL_EXTENSION: 'invalid_certificate',
  ERR_XFCC_MALFORMED: 'invalid_certificate',
  ERR_XFCC_URI_COUNT: 'invalid_certificate',
  // bearer tokens (JWT-SVID and OIDC)
  ERR_BEARER_MALFORMED: 'invalid_token',
  ERR_JWT_TOO_LARGE: 'invalid_token',
  ERR_JWT_MALFORMED: 'invalid_token',
  ERR_JWT_ENCRYPTED: 'invalid_token',
  ERR_JWT_BASE64: 'invalid_token',
  ERR_JWT_JSON: 'invalid_token',
  ERR_JWT_HEADER_NOT_OBJECT: 'invalid_token',
  ERR_JWT_PAYLOAD_NOT_OBJECT: 'invalid_token',
  ERR_JWT_ALG_NOT_ALLOWED: 'invalid_token',
  ERR_JWT_CRIT_UNSUPPORTED: 'invalid_token',
  ERR_JWT_TYP: 'invalid_token',
  ERR_JWT_KID_MISSING: 'invalid_token',
  ERR_JWT_KEY_NOT_FOUND: 'invalid_token',
  ERR_JWT_KEY_USE: 'invalid_token',
  ERR_JWT_ALG_KEY_MISMATCH: 'invalid_token',
  ERR_JWT_SIGNATURE: 'invalid_token',
  ERR_JWT_EXPIRED: 'invalid_token',
  ERR_JWT_NOT_YET_VALID: 'invalid_token',
  ERR_JWT_EXP_MISSING: 'invalid_token',
  ERR_JWT_AUD_MISSING: 'invalid_token',
  ERR_JWT_AUD_MISMATCH: 'invalid_token',
  ERR_JWT_ISSUER_UNKNOWN: 'invalid_token',
  ERR_JWT_ISSUER_MISMATCH: 'invalid_token',
  ERR_JWT_SUB_MISSING: 'invalid_token',
  ERR_JWT_SUB_NOT_SPIFFE: 'invalid_token',
  ERR_JWT_CLAIM_INVALID: 'invalid_token',
  ERR_JWT_SVID_NOT_CONFIGURED: 'invalid_token',
  ERR_JWT_AUTHN_METADATA: 'invalid_token',
  // two credentials that each verify but name different callers
  ERR_IDENTITY_CONFLICT: 'identity_conflict',
  ERR_INTERNAL: 'internal_error',
} as const satisfies Record<string, ReasonCode>;

export type IdentityErrorCode = keyof typeof CODE_REASONS | SpiffeIdErrorCode;

/** Which credential failed: the wire layer adds a Bearer challenge for `token`. */
export type CredentialKind = 'principal' | 'certificate' | 'xfcc' | 'token' | 'metadata';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly reason: ReasonCode;
  constructor(
    readonly code: IdentityErrorCode,
    readonly credential: CredentialKind,
    message: string,
    options?: { cause?: unknown; reason?: ReasonCode },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options?.reason ?? reasonOf(code);
  }
}

function reasonOf(code: IdentityErrorCode): ReasonCode {
  if (code.startsWith('ERR_SPIFFE_')) return 'invalid_principal';
  return CODE_REASONS[code as keyof typeof CODE_REASONS];
}

/** Errors raised while loading a trust bundle, roots or a JWKS file (never per request). */
export const BUNDLE_ERROR_CODES = [
  'ERR_BUNDLE_READ',
  'ERR_BUNDLE_JSON',
  'ERR_BUNDLE_INVALID',
  'ERR_BUNDLE_KEY',
  // a bundle endpoint: the fetch failed (network, TLS, status, timeout, size), or its spiffe_sequence went back
  'ERR_BUNDLE_FETCH',
  'ERR_BUNDLE_SEQUENCE',
] as const;
export type BundleErrorCode = (typeof BUNDLE_ERROR_CODES)[number];

export class BundleError extends Error {
  override readonly name = 'BundleError';
  constructor(
    readonly code: BundleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
