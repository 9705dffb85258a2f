/**
 * Parses a SPIFFE bundle (SPIFFE Trust Domain and Bundle §4: a JWK Set with spiffe_sequence
 * and spiffe_refresh_hint) or a PEM file of roots into authorities ready for verification:
 * certificates parsed and JWT keys imported here, once per load, never per request.
 * Unknown `kty` or `use` values are ignored as the standard says; a malformed key of a known
 * kind rejects the whole bundle, so a half-read bundle never replaces a good one.
 */
import { X509Certificate } from 'node:crypto';
import { BundleError } from './errors.js';
import { costlyRsaKey, importVerificationKey, type VerificationKey } from './lib/verification-key.js';
import { parsePemCertificates } from './lib/x509-svid.js';

/** A jwt-svid key: imported here, with its kty, curve or RSA size and pinned alg. */
export interface JwtAuthority extends VerificationKey {
  readonly kid: string;
}

export interface SpiffeBundle {
  readonly sequence?: number;
  readonly refreshHint?: number;
  readonly x509Authorities: readonly X509Certificate[];
  readonly jwtAuthorities: ReadonlyMap<string, JwtAuthority>;
  /** `kid`s carried by x509-svid keys: only to say why such a kid cannot verify a JWT. */
  readonly x509KeyIds: ReadonlySet<string>;
  /** Keys skipped because of an unknown kty or use. */
  readonly ignoredKeys: number;
}

const KNOWN_KTY = new Set(['RSA', 'EC', 'OKP']);
const JWT_CURVES = new Set(['P-256', 'P-384', 'P-521']);

/**
 * `maxKeys`: a bundle listing more is refused before any key is imported. Each import costs the
 * thread that answers Checks (6,600 EC keys fit in 1 MiB: 400 ms), and a bundle from another
 * organisation's endpoint is theirs to write.
 */
export function parseSpiffeBundle(text: string, maxKeys = Infinity): SpiffeBundle {
  const json = parseJson(text);
  if (!isObject(json) || !Array.isArray(json.keys)) throw new BundleError('ERR_BUNDLE_INVALID', 'bundle must be a JWK Set with a "keys" array');
  if (json.keys.length > maxKeys) throw new BundleError('ERR_BUNDLE_INVALID', `bundle lists ${json.keys.length} keys, more than the ${maxKeys} taken`);
  const bundle = {
    x509Authorities: [] as X509Certificate[],
    jwtAuthorities: new Map<string, JwtAuthority>(),
    x509KeyIds: new Set<string>(),
    ignoredKeys: 0,
  };
  json.keys.forEach((key: unknown, index: number) => addKey(bundle, key, index));
  return Object.freeze({
    ...optionalCount(json.spiffe_sequence, 'spiffe_sequence', 'sequence'),
    ...optionalCount(json.spiffe_refresh_hint, 'spiffe_refresh_hint', 'refreshHint'),
    ...bundle,
  });
}

/** A PEM file of X.509 roots as a bundle without JWT authorities. */
export function parseRootsPem(text: string): SpiffeBundle {
  let roots: X509Certificate[];
  try {
    roots = parsePemCertificates(text);
  } catch (cause) {
    throw new BundleError('ERR_BUNDLE_INVALID', 'roots file holds a certificate that does not parse', { cause });
  }
  if (roots.length === 0) throw new BundleError('ERR_BUNDLE_INVALID', 'roots file holds no PEM certificate');
  return Object.freeze({ x509Authorities: roots, jwtAuthorities: new Map(), x509KeyIds: new Set<string>(), ignoredKeys: 0 });
}

type MutableBundle = {
  x509Authorities: X509Certificate[];
  jwtAuthorities: Map<string, JwtAuthority>;
  x509KeyIds: Set<string>;
  ignoredKeys: number;
};

function addKey(bundle: MutableBundle, key: unknown, index: number): void {
  const where = `keys[${index}]`;
  if (!isObject(key)) throw new BundleError('ERR_BUNDLE_KEY', `${where}: not an object`);
  if (typeof key.kty !== 'string' || typeof key.use !== 'string') {
    throw new BundleError('ERR_BUNDLE_KEY', `${where}: "kty" and "use" must be set`);
  }
  if (!KNOWN_KTY.has(key.kty) || (key.use !== 'x509-svid' && key.use !== 'jwt-svid')) {
    bundle.ignoredKeys++;
    return;
  }
  if (key.use === 'x509-svid') addX509Authority(bundle, key, where);
  else addJwtAuthority(bundle, key, where);
}

function addX509Authority(bundle: MutableBundle, key: Record<string, unknown>, where: string): void {
  const x5c = key.x5c;
  if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== 'string') {
    throw new BundleError('ERR_BUNDLE_KEY', `${where}: x509-svid keys need "x5c" with exactly one certificate`);
  }
  let authority: X509Certificate;
  try {
    authority = new X509Certificate(Buffer.from(x5c[0], 'base64'));
  } catch (cause) {
    throw new BundleError('ERR_BUNDLE_KEY', `${where}: x5c certificate does not parse`, { cause });
  }
  // every X.509-SVID of the domain is verified with this key, on the thread that answers Checks
  const costly = costlyRsaKey(authority.publicKey);
  if (costly !== undefined) throw new BundleError('ERR_BUNDLE_KEY', `${where}: x5c certificate's ${costly}`);
  bundle.x509Authorities.push(authority);
  if (typeof key.kid === 'string') bundle.x509KeyIds.add(key.kid);
}

function addJwtAuthority(bundle: MutableBundle, key: Record<string, unknown>, where: string): void {
  if (key.kty === 'OKP') {
    // EdDSA is not among the JWT-SVID algorithms we accept: an unusable kind, not a broken key
    bundle.ignoredKeys++;
    return;
  }
  const kid = key.kid;
  if (typeof kid !== 'string' || kid.length === 0) throw new BundleError('ERR_BUNDLE_KEY', `${where}: jwt-svid keys need a "kid"`);
  if (bundle.jwtAuthorities.has(kid)) throw new BundleError('ERR_BUNDLE_KEY', `${where}: kid ${JSON.stringify(kid.slice(0, 100))} appears twice`);
  if ('d' in key) throw new BundleError('ERR_BUNDLE_KEY', `${where}: holds a private key`);
  if (key.kty === 'EC' && !JWT_CURVES.has(String(key.crv))) throw new BundleError('ERR_BUNDLE_KEY', `${where}: unsupported curve`);
  bundle.jwtAuthorities.set(kid, Object.freeze({ kid, ...importJwtKey(key, where) }));
}

/** Imported once per load, never per request; a short RSA key is refused here as a broken key. */
function importJwtKey(key: Record<string, unknown>, where: string): VerificationKey {
  try {
    return importVerificationKey(key);
  } catch (cause) {
    throw new BundleError('ERR_BUNDLE_KEY', `${where}: ${(cause as Error).message}`, { cause });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BundleError('ERR_BUNDLE_JSON', 'bundle is not valid JSON', { cause });
  }
}

function optionalCount(value: unknown, field: string, as: 'sequence' | 'refreshHint'): { sequence?: number; refreshHint?: number } {
  if (value === undefined) return {};
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new BundleError('ERR_BUNDLE_INVALID', `"${field}" must be a non-negative integer`);
  }
  return { [as]: value as number };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
