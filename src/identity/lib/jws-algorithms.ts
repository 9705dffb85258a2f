/**
 * The JWS algorithms a bearer token may use (asymmetric only, JWT-SVID §3: HS* would let a
 * public key act as a shared secret) and how node:crypto verifies each (RFC 7518 §3.3-3.5).
 */
import { constants } from 'node:crypto';

export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';
export type Curve = 'P-256' | 'P-384' | 'P-521';

export type AlgorithmSpec =
  | { readonly kty: 'RSA'; readonly hash: string; readonly padding: number; readonly saltLength?: number }
  | { readonly kty: 'EC'; readonly hash: string; readonly crv: Curve; readonly signatureBytes: number };

const rsa = (bits: 256 | 384 | 512): AlgorithmSpec => ({ kty: 'RSA', hash: `sha${bits}`, padding: constants.RSA_PKCS1_PADDING });
// the salt is as long as the hash (RFC 7518 §3.5), and nothing else verifies
const pss = (bits: 256 | 384 | 512): AlgorithmSpec => ({
  kty: 'RSA', hash: `sha${bits}`, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8,
});
// JWS carries R || S of fixed width (RFC 7518 §3.4), not DER
const ecdsa = (bits: 256 | 384 | 512, crv: Curve, signatureBytes: number): AlgorithmSpec => ({
  kty: 'EC', hash: `sha${bits}`, crv, signatureBytes,
});

export const JWS_ALGORITHMS: Readonly<Record<JwsAlgorithm, AlgorithmSpec>> = Object.freeze({
  RS256: rsa(256), RS384: rsa(384), RS512: rsa(512),
  PS256: pss(256), PS384: pss(384), PS512: pss(512),
  ES256: ecdsa(256, 'P-256', 64), ES384: ecdsa(384, 'P-384', 96), ES512: ecdsa(512, 'P-521', 132),
});

export const ALLOWED_ALGS: readonly JwsAlgorithm[] = Object.freeze(Object.keys(JWS_ALGORITHMS) as JwsAlgorithm[]);

export function isAllowedAlg(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(JWS_ALGORITHMS, alg);
}
