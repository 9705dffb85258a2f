/**
 * A public key ready to verify JWS signatures: its KeyObject imported once per bundle or JWK
 * Set load (never per request), with what it can verify read from the imported key itself.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { JWS_ALGORITHMS, type Curve, type JwsAlgorithm } from './jws-algorithms.js';

export interface VerificationKey {
  readonly key: KeyObject;
  readonly kty: 'RSA' | 'EC';
  /** EC keys: the curve. */
  readonly crv?: Curve;
  /** RSA keys: the length of every signature they made, in bytes. */
  readonly modulusBytes?: number;
  /** The JWK's own `alg`, when it pins one. */
  readonly alg?: string;
}

/** Shorter RSA keys are refused as broken, like jose's and every JOSE profile's minimum. */
export const MIN_RSA_BITS = 2048;
/**
 * Longer keys, and public exponents past 2^31 - 1 (Go's crypto/rsa limit, so no SPIRE key), are
 * refused as costly: the key's owner (a federated domain's endpoint, an issuer's JWKS) would
 * make every token it signs cost the thread that answers Checks. Measured: 2048 bits with
 * e = 65537, 0.03 ms a verification; a 3072-bit exponent, 5.3 ms; 16384 bits, 1 ms.
 */
export const MAX_RSA_BITS = 8192;
const MAX_RSA_EXPONENT = 2n ** 31n - 1n;
const CURVE_NAMES: Readonly<Record<string, Curve>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** Imports a public JWK; throws an Error saying why a key cannot verify any algorithm we accept. */
export function importVerificationKey(jwk: Readonly<Record<string, unknown>>): VerificationKey {
  if ('d' in jwk) throw new Error('holds a private key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new Error('key material does not import', { cause });
  }
  const alg = typeof jwk.alg === 'string' ? { alg: jwk.alg } : {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new Error(`RSA key shorter than ${MIN_RSA_BITS} bits`);
      const costly = costlyRsaKey(key);
      if (costly !== undefined) throw new Error(costly);
      return Object.freeze({ key, kty: 'RSA', modulusBytes: Math.ceil(bits / 8), ...alg });
    }
    case 'ec': {
      const crv = CURVE_NAMES[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (crv === undefined) throw new Error('unsupported curve');
      return Object.freeze({ key, kty: 'EC', crv, ...alg });
    }
    default:
      throw new Error(`${String(key.asymmetricKeyType)} keys cannot verify the accepted algorithms`);
  }
}

/** Why verifying with this key would cost far more than a usual key does; undefined when it would not (or it is not RSA). */
export function costlyRsaKey(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType !== 'rsa') return undefined;
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) > MAX_RSA_BITS) return `RSA key longer than ${MAX_RSA_BITS} bits`;
  if ((key.asymmetricKeyDetails?.publicExponent ?? 0n) > MAX_RSA_EXPONENT) return 'RSA public exponent larger than 2^31 - 1';
  return undefined;
}

/** An RSA key verifies RS* and PS* only, an EC key ES* on its own curve only, a pinned key its alg only. */
export function keyFitsAlg(key: VerificationKey, alg: JwsAlgorithm): boolean {
  const spec = JWS_ALGORITHMS[alg];
  if (key.alg !== undefined && key.alg !== alg) return false;
  return spec.kty === 'EC' ? key.kty === 'EC' && key.crv === spec.crv : key.kty === 'RSA';
}
