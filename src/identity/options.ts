/**
 * The `identity:` section of the configuration, as plain data, and its validation. Every
 * misuse is a TypeError at start-up; the result is frozen and never re-checked per request.
 */
import { isTrustDomainName } from '../domain/index.js';

export interface TrustDomainOptions {
  /** SPIFFE bundle (JWK Set) file, relative to baseDir. Exactly one of bundle / roots. */
  readonly bundle?: string;
  /** PEM file of X.509 roots, relative to baseDir (X.509-SVIDs only, no JWT-SVID keys). */
  readonly roots?: string;
}

export interface IssuerOptions {
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** Exactly one of jwksUri / jwksFile. */
  readonly jwksUri?: string;
  readonly jwksFile?: string;
  /** Fetch timeout, default 5000 ms. */
  readonly timeoutMs?: number;
  /** Minimum time between two fetches, default 30000 ms. */
  readonly cooldownMs?: number;
  /** Keys older than this are refetched before use (kept if the refetch fails), default 600000 ms. */
  readonly maxAgeMs?: number;
}

/** The SPIFFE Workload API (a SPIRE agent's socket): trust bundles streamed as they change. */
export interface WorkloadApiOptions {
  /** `unix:/path` or `unix:///path` (the form of SPIFFE_ENDPOINT_SOCKET). */
  readonly socket: string;
}

export interface IdentityOptions {
  readonly trustDomains: Readonly<Record<string, TrustDomainOptions>>;
  /** Bundles from the Workload API: they replace the files of every trust domain the agent streams. */
  readonly workloadApi?: WorkloadApiOptions;
  /** Verify `source.certificate` (Envoy's include_peer_certificate) against the trust domain's roots. */
  readonly verifyPeerCertificate?: boolean;
  /** Read the workload from `x-forwarded-client-cert`: only safe when Envoy sanitizes it. */
  readonly trustForwardedClientCert?: boolean;
  readonly jwtSvid?: { readonly audiences: readonly string[]; readonly header?: string };
  /** Which identity a Subject reports when an mTLS principal and a JWT-SVID agree. Default mtls. */
  readonly precedence?: 'mtls' | 'jwt';
  readonly issuers?: readonly IssuerOptions[];
  /** Read claims that Envoy's jwt_authn filter verified from metadata_context (opt-in). */
  readonly jwtAuthnMetadata?: { readonly enabled: boolean; readonly filter?: string; readonly payloadKey?: string };
  readonly tokenCache?: { readonly max: number; readonly maxTtlSeconds: number };
  /** Bearer tokens longer than this are rejected before any parsing. Default 16384. */
  readonly maxTokenBytes?: number;
  /** Leeway for exp / nbf / certificate validity. Default 0. */
  readonly clockToleranceSeconds?: number;
}

export interface NormalizedIssuer {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwks: { readonly uri: URL } | { readonly file: string };
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  readonly maxAgeMs: number;
}

export interface NormalizedTrustDomain {
  readonly name: string;
  readonly kind: 'bundle' | 'roots';
  readonly file: string;
}

export interface NormalizedOptions {
  readonly trustDomains: ReadonlyMap<string, NormalizedTrustDomain>;
  readonly workloadApi?: WorkloadApiOptions;
  readonly verifyPeerCertificate: boolean;
  readonly trustForwardedClientCert: boolean;
  readonly jwtSvid?: { readonly audiences: readonly string[]; readonly header: string };
  readonly precedence: 'mtls' | 'jwt';
  readonly issuers: ReadonlyMap<string, NormalizedIssuer>;
  readonly jwtAuthnMetadata?: { readonly filter: string; readonly payloadKey?: string };
  readonly tokenCache: { readonly max: number; readonly maxTtlSeconds: number };
  readonly maxTokenBytes: number;
  readonly clockToleranceSeconds: number;
}

export const DEFAULT_JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';

/** Validates `options` (paths resolved against `resolvePath`) or throws TypeError. */
export function normalizeIdentityOptions(
  options: IdentityOptions,
  resolvePath: (file: string) => string,
): NormalizedOptions {
  if (!isObject(options)) throw new TypeError('identity: must be an object');
  return Object.freeze({
    trustDomains: normalizeTrustDomains(options.trustDomains, resolvePath),
    ...normalizeWorkloadApi(options.workloadApi),
    verifyPeerCertificate: optionalBoolean(options.verifyPeerCertificate, 'identity.verifyPeerCertificate'),
    trustForwardedClientCert: optionalBoolean(options.trustForwardedClientCert, 'identity.trustForwardedClientCert'),
    ...normalizeJwtSvid(options.jwtSvid),
    precedence: normalizePrecedence(options.precedence),
    issuers: normalizeIssuers(options.issuers, resolvePath),
    ...normalizeMetadata(options.jwtAuthnMetadata),
    tokenCache: normalizeTokenCache(options.tokenCache),
    maxTokenBytes: positiveInteger(options.maxTokenBytes ?? 16384, 'identity.maxTokenBytes'),
    clockToleranceSeconds: nonNegative(options.clockToleranceSeconds ?? 0, 'identity.clockToleranceSeconds'),
  });
}

function normalizeTrustDomains(
  domains: IdentityOptions['trustDomains'],
  resolvePath: (file: string) => string,
): ReadonlyMap<string, NormalizedTrustDomain> {
  if (!isObject(domains)) throw new TypeError('identity.trustDomains: must be an object');
  const result = new Map<string, NormalizedTrustDomain>();
  for (const [name, domain] of Object.entries(domains)) {
    const where = `identity.trustDomains["${name}"]`;
    if (!isTrustDomainName(name)) throw new TypeError(`${where}: not a valid trust domain name`);
    if (!isObject(domain)) throw new TypeError(`${where}: must be an object`);
    if ((domain.bundle === undefined) === (domain.roots === undefined)) {
      throw new TypeError(`${where}: set exactly one of "bundle" and "roots"`);
    }
    const kind = domain.bundle !== undefined ? 'bundle' : 'roots';
    const file = nonEmptyString(domain.bundle ?? domain.roots, `${where}.${kind}`);
    result.set(name, Object.freeze({ name, kind, file: resolvePath(file) }));
  }
  return result;
}

/** Only unix sockets: the Workload API authenticates the caller by its process, which TCP cannot. */
const UNIX_TARGET = /^unix:(\/\/)?\/[^\0]+$/;

function normalizeWorkloadApi(workloadApi: IdentityOptions['workloadApi']): Pick<NormalizedOptions, 'workloadApi'> {
  if (workloadApi === undefined) return {};
  if (!isObject(workloadApi)) throw new TypeError('identity.workloadApi: must be an object');
  const socket = nonEmptyString(workloadApi.socket, 'identity.workloadApi.socket (or SPIFFE_ENDPOINT_SOCKET)');
  if (!UNIX_TARGET.test(socket)) {
    throw new TypeError(`identity.workloadApi.socket: "${socket.slice(0, 200)}" is not unix:/path or unix:///path`);
  }
  return { workloadApi: Object.freeze({ socket }) };
}

function normalizeJwtSvid(jwtSvid: IdentityOptions['jwtSvid']): Pick<NormalizedOptions, 'jwtSvid'> {
  if (jwtSvid === undefined) return {};
  if (!isObject(jwtSvid)) throw new TypeError('identity.jwtSvid: must be an object');
  const audiences = stringList(jwtSvid.audiences, 'identity.jwtSvid.audiences');
  const header = nonEmptyString(jwtSvid.header ?? 'authorization', 'identity.jwtSvid.header').toLowerCase();
  return { jwtSvid: Object.freeze({ audiences, header }) };
}

function normalizePrecedence(value: unknown): 'mtls' | 'jwt' {
  if (value === undefined) return 'mtls';
  if (value === 'mtls' || value === 'jwt') return value;
  throw new TypeError('identity.precedence: must be "mtls" or "jwt"');
}

function normalizeIssuers(
  issuers: IdentityOptions['issuers'],
  resolvePath: (file: string) => string,
): ReadonlyMap<string, NormalizedIssuer> {
  if (issuers === undefined) return new Map();
  if (!Array.isArray(issuers)) throw new TypeError('identity.issuers: must be an array');
  const result = new Map<string, NormalizedIssuer>();
  issuers.forEach((entry: IssuerOptions, index) => {
    const issuer = normalizeIssuer(entry, `identity.issuers[${index}]`, resolvePath);
    if (result.has(issuer.issuer)) throw new TypeError(`identity.issuers[${index}]: issuer listed twice`);
    result.set(issuer.issuer, issuer);
  });
  return result;
}

function normalizeIssuer(
  entry: IssuerOptions,
  where: string,
  resolvePath: (file: string) => string,
): NormalizedIssuer {
  if (!isObject(entry)) throw new TypeError(`${where}: must be an object`);
  if ((entry.jwksUri === undefined) === (entry.jwksFile === undefined)) {
    throw new TypeError(`${where}: set exactly one of "jwksUri" and "jwksFile"`);
  }
  return Object.freeze({
    issuer: nonEmptyString(entry.issuer, `${where}.issuer`),
    audiences: stringList(entry.audiences, `${where}.audiences`),
    jwks:
      entry.jwksUri !== undefined
        ? { uri: httpUrl(entry.jwksUri, `${where}.jwksUri`) }
        : { file: resolvePath(nonEmptyString(entry.jwksFile, `${where}.jwksFile`)) },
    timeoutMs: nonNegativeInteger(entry.timeoutMs ?? 5000, `${where}.timeoutMs`),
    cooldownMs: nonNegativeInteger(entry.cooldownMs ?? 30_000, `${where}.cooldownMs`),
    maxAgeMs: nonNegativeInteger(entry.maxAgeMs ?? 600_000, `${where}.maxAgeMs`),
  });
}

function normalizeMetadata(
  metadata: IdentityOptions['jwtAuthnMetadata'],
): Pick<NormalizedOptions, 'jwtAuthnMetadata'> {
  if (metadata === undefined) return {};
  if (!isObject(metadata)) throw new TypeError('identity.jwtAuthnMetadata: must be an object');
  if (!optionalBoolean(metadata.enabled, 'identity.jwtAuthnMetadata.enabled')) return {};
  const filter = nonEmptyString(metadata.filter ?? DEFAULT_JWT_AUTHN_FILTER, 'identity.jwtAuthnMetadata.filter');
  const payloadKey =
    metadata.payloadKey === undefined ? undefined : nonEmptyString(metadata.payloadKey, 'identity.jwtAuthnMetadata.payloadKey');
  return { jwtAuthnMetadata: Object.freeze(payloadKey === undefined ? { filter } : { filter, payloadKey }) };
}

function normalizeTokenCache(cache: IdentityOptions['tokenCache']): NormalizedOptions['tokenCache'] {
  if (cache === undefined) return Object.freeze({ max: 10_000, maxTtlSeconds: 300 });
  if (!isObject(cache)) throw new TypeError('identity.tokenCache: must be an object');
  return Object.freeze({
    max: positiveInteger(cache.max, 'identity.tokenCache.max'),
    maxTtlSeconds: positiveInteger(cache.maxTtlSeconds, 'identity.tokenCache.maxTtlSeconds'),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalBoolean(value: unknown, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${where}: must be a boolean`);
  return value;
}

function nonEmptyString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${where}: must be a non-empty string`);
  return value;
}

function stringList(value: unknown, where: string): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) throw new TypeError(`${where}: must be a non-empty array`);
  return Object.freeze(value.map((item, i) => nonEmptyString(item, `${where}[${i}]`)));
}

function httpUrl(value: unknown, where: string): URL {
  const text = nonEmptyString(value, where);
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TypeError(`${where}: must be an http(s) URL`);
  }
  return url;
}

function positiveInteger(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new TypeError(`${where}: must be a positive integer`);
  return value as number;
}

function nonNegativeInteger(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new TypeError(`${where}: must be a non-negative integer`);
  return value as number;
}

function nonNegative(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where}: must be a non-negative number`);
  }
  return value;
}
