/** Maps what jose throws onto our closed set of codes, so no jose code leaks as a label. */
import { errors } from 'jose';
import { IdentityError, type IdentityErrorCode } from '../errors.js';

export function fromJoseError(error: unknown): IdentityError {
  if (error instanceof IdentityError) return error;
  const code = joseCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new IdentityError(code, 'token', message, { cause: error });
}

function joseCode(error: unknown): IdentityErrorCode {
  if (error instanceof errors.JWTExpired) return 'ERR_JWT_EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) return claimCode(error.claim, error.reason);
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'ERR_JWT_SIGNATURE';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'ERR_JWT_ALG_NOT_ALLOWED';
  if (error instanceof errors.JWKSNoMatchingKey) return 'ERR_JWT_KEY_NOT_FOUND';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'ERR_JWT_MALFORMED';
  if (error instanceof errors.JOSENotSupported) return 'ERR_JWT_CRIT_UNSUPPORTED';
  // jose raises TypeError when a key cannot serve the algorithm (kty, curve, RSA size)
  if (error instanceof TypeError) return 'ERR_JWT_ALG_KEY_MISMATCH';
  return 'ERR_INTERNAL';
}

function claimCode(claim: string, reason: string): IdentityErrorCode {
  switch (claim) {
    case 'nbf':
      return 'ERR_JWT_NOT_YET_VALID';
    case 'exp':
      return reason === 'missing' ? 'ERR_JWT_EXP_MISSING' : 'ERR_JWT_CLAIM_INVALID';
    case 'aud':
      return reason === 'missing' ? 'ERR_JWT_AUD_MISSING' : 'ERR_JWT_AUD_MISMATCH';
    case 'iss':
      return 'ERR_JWT_ISSUER_MISMATCH';
    case 'sub':
      return 'ERR_JWT_SUB_MISSING';
    default:
      return 'ERR_JWT_CLAIM_INVALID';
  }
}
