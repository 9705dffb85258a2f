/** Test signing keys and token builders, honest and hostile. */
import { createHmac, createSign, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'RS256' | 'PS256' | 'ES384';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function makeKey(kid: string, alg: SigningKey['alg'] = 'ES256'): SigningKey {
  const pair = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: alg === 'ES384' ? 'P-384' : 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg, ...pair };
}

export function publicJwk(key: SigningKey, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, ...extra };
}

/** A correctly signed JWT with `kid` and `alg` of the key, plus any header overrides. */
export async function signToken(
  key: SigningKey,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Header and payload exactly as given, signed with `key` (ES256 / RS256) whatever the header says. */
export function forgeSigned(key: SigningKey, header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = key.alg.startsWith('ES')
    ? sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : createSign('sha256').update(input).sign(key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** The classic confusion attack: HS256 keyed with the bytes of the public key. */
export function forgeHs256WithPublicKey(key: SigningKey, payload: unknown): string {
  const input = `${b64({ alg: 'HS256', kid: key.kid, typ: 'JWT' })}.${b64(payload)}`;
  const secret = key.publicKey.export({ format: 'pem', type: 'spki' });
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function unsigned(header: unknown, payload: unknown): string {
  return `${b64(header)}.${b64(payload)}.`;
}

export const rawPart = b64;
