/**
 * The signature of a compact JWS, verified synchronously by node:crypto with a key imported at
 * load: no WebCrypto round trip through the thread pool, no key import per request.
 */
import { verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { IdentityError } from '../errors.js';
import type { DecodedJwt } from './decode-jwt.js';
import { JWS_ALGORITHMS, type AlgorithmSpec } from './jws-algorithms.js';
import { keyFitsAlg, type VerificationKey } from './verification-key.js';

/** Throws ERR_JWT_ALG_KEY_MISMATCH when `key` cannot serve the token's alg, ERR_JWT_SIGNATURE when it does not verify. */
export function verifyJwsSignature(jwt: DecodedJwt, key: VerificationKey): void {
  // checked again here, whatever the caller did: an RSA key must never verify an ES token
  if (!keyFitsAlg(key, jwt.alg)) throw new IdentityError('ERR_JWT_ALG_KEY_MISMATCH', 'token', `key cannot verify ${jwt.alg}`);
  const spec = JWS_ALGORITHMS[jwt.alg];
  const signature = Buffer.from(jwt.signature, 'base64url');
  const length = spec.kty === 'EC' ? spec.signatureBytes : key.modulusBytes;
  if (signature.length !== length || !verifyWith(spec, key.key, Buffer.from(jwt.signingInput, 'latin1'), signature)) {
    throw new IdentityError('ERR_JWT_SIGNATURE', 'token', 'signature verification failed');
  }
}

function verifyWith(spec: AlgorithmSpec, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  let input: VerifyKeyObjectInput;
  if (spec.kty === 'EC') input = { key, dsaEncoding: 'ieee-p1363' };
  else if (spec.saltLength === undefined) input = { key, padding: spec.padding };
  else input = { key, padding: spec.padding, saltLength: spec.saltLength };
  try {
    return verify(spec.hash, data, input, signature);
  } catch {
    return false;
  }
}
