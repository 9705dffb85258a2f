/**
 * One Workload API bundle update (X509BundlesResponse or JWTBundlesResponse, as grpc-js decodes
 * it) into authorities ready for verification, per trust domain. The whole update is refused if
 * any part of it is: a half-read update never replaces a good one. Errors name the map entry.
 */
import { X509Certificate } from 'node:crypto';
import { isTrustDomainName } from '../../domain/index.js';
import { BundleError } from '../errors.js';
import { splitDerCertificates } from '../lib/der.js';
import { parseSpiffeBundle, type SpiffeBundle } from '../parse-spiffe-bundle.js';

export type BundleStream = 'x509' | 'jwt';

/** What grpc-js hands over: the `bundles` map of either response (bytes values). */
export interface RawBundleUpdate {
  readonly bundles?: Readonly<Record<string, Uint8Array>>;
}

/** X.509 roots per trust domain, as the latest X509BundlesResponse carried them. */
export type X509Update = ReadonlyMap<string, readonly X509Certificate[]>;
/** JWT-SVID keys per trust domain, as the latest JWTBundlesResponse carried them. */
export type JwtUpdate = ReadonlyMap<string, SpiffeBundle>;

const MESSAGE: Record<BundleStream, string> = { x509: 'X509BundlesResponse', jwt: 'JWTBundlesResponse' };

export function parseX509Update(update: RawBundleUpdate): X509Update {
  return parseEntries('x509', update, (bytes, where) => parseX509Roots(bytes, where));
}

export function parseJwtUpdate(update: RawBundleUpdate): JwtUpdate {
  return parseEntries('jwt', update, (bytes, where) => parseJwtBundle(bytes, where));
}

function parseEntries<T>(stream: BundleStream, update: RawBundleUpdate, parse: (bytes: Uint8Array, where: string) => T): Map<string, T> {
  const entries = Object.entries(update?.bundles ?? {});
  // SPIRE always sends the agent's own trust domain: an empty update is a broken stream, not "trust nothing"
  if (entries.length === 0) throw new BundleError('ERR_BUNDLE_INVALID', `${MESSAGE[stream]}.bundles: empty update`);
  const result = new Map<string, T>();
  for (const [key, bytes] of entries) {
    const where = `${MESSAGE[stream]}.bundles["${key.slice(0, 300)}"]`;
    const trustDomain = trustDomainOfKey(key, where);
    if (result.has(trustDomain)) throw new BundleError('ERR_BUNDLE_INVALID', `${where}: trust domain ${trustDomain} listed twice`);
    result.set(trustDomain, parse(bytes, where));
  }
  return result;
}

/** The map is keyed by the trust domain's SPIFFE ID (`spiffe://td`); a bare name is accepted as go-spiffe does. */
function trustDomainOfKey(key: string, where: string): string {
  const name = key.startsWith('spiffe://') ? key.slice('spiffe://'.length) : key;
  if (!isTrustDomainName(name)) throw new BundleError('ERR_BUNDLE_INVALID', `${where}: not a trust domain ID`);
  return name;
}

function parseX509Roots(bytes: Uint8Array, where: string): X509Certificate[] {
  let roots: X509Certificate[];
  try {
    roots = splitDerCertificates(bytes).map((der) => new X509Certificate(der));
  } catch (cause) {
    throw new BundleError('ERR_BUNDLE_KEY', `${where}: not a list of DER certificates (${(cause as Error).message})`, { cause });
  }
  if (roots.length === 0) throw new BundleError('ERR_BUNDLE_INVALID', `${where}: no certificate`);
  const notCa = roots.findIndex((root) => root.ca !== true);
  if (notCa >= 0) throw new BundleError('ERR_BUNDLE_KEY', `${where}: certificate ${notCa} is not a CA`);
  return roots;
}

/**
 * A JWT bundle is a JWK Set whose keys are all JWT-SVID authorities; go-spiffe writes them
 * without `use`. A key that says it is for anything else is a mixed bundle: refused.
 */
function parseJwtBundle(bytes: Uint8Array, where: string): SpiffeBundle {
  const json = parseJson(bytes, where);
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) {
    throw new BundleError('ERR_BUNDLE_INVALID', `${where}: must be a JWK Set with a "keys" array`);
  }
  const keys = (json as { keys: unknown[] }).keys.map((key, index) => asJwtSvidKey(key, `${where}.keys[${index}]`));
  try {
    return parseSpiffeBundle(JSON.stringify({ ...json, keys }));
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    throw new BundleError(error.code, `${where}: ${error.message}`, { cause: error });
  }
}

function asJwtSvidKey(key: unknown, where: string): unknown {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new BundleError('ERR_BUNDLE_KEY', `${where}: not an object`);
  const use = (key as { use?: unknown }).use;
  if (use !== undefined && use !== 'jwt-svid') throw new BundleError('ERR_BUNDLE_KEY', `${where}: a JWT bundle key with "use" ${JSON.stringify(use).slice(0, 40)}`);
  return { ...key, use: 'jwt-svid' };
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new BundleError('ERR_BUNDLE_JSON', `${where}: not valid JSON`, { cause });
  }
}
