/**
 * The `identity:` section of the configuration, as plain data, and its validation. Every
 * misuse is a TypeError at start-up; the result is frozen and never re-checked per request.
 */
import { isTrustDomainName } from '../domain/index.js';
import { parseWorkloadApiEndpoint } from './workload-api/endpoint-address.js';

export interface TrustDomainOptions {
  /** SPIFFE bundle (JWK Set) file, relative to baseDir. Exactly one of bundle / roots / bundleEndpoint. */
  readonly bundle?: string;
  /** PEM file of X.509 roots, relative to baseDir (X.509-SVIDs only, no JWT-SVID keys). */
  readonly roots?: string;
  /** A SPIFFE bundle endpoint (federation), polled at the bundle's refresh hint. */
  readonly bundleEndpoint?: BundleEndpointOptions;
}

/** SPIFFE Federation: a bundle endpoint of the `https_web` profile (plain HTTPS, web PKI or `caFile`). */
export interface BundleEndpointOptions {
  /** `https://…`: the endpoint's server is authenticated as any HTTPS server is. */
  readonly url: string;
  /** The only profile supported; `https_spiffe` (SPIFFE-authenticated) is not. */
  readonly profile: 'https_web';
  /** PEM CA certificates to verify the endpoint's server with, instead of the web PKI (relative to baseDir). */
  readonly caFile?: string;
  /** How often to poll when a bundle carries no spiffe_refresh_hint. Default 300000 ms. */
  readonly refreshHintMs?: number;
  /** The whole fetch, connect to last byte. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** A response body longer than this is refused unread. Default 1 MiB. */
  readonly maxBytes?: number;
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
  /** `unix:/path`, `unix:///path` or `tcp://IP:PORT` (the forms of SPIFFE_ENDPOINT_SOCKET). */
  readonly socket: string;
}

export interface IdentityOptions {
  readonly trustDomains: Readonly<Record<string, TrustDomainOptions>>;
  /** Bundles from the Workload API: they replace the files of every trust domain the agent streams. */
  readonly workloadApi?: WorkloadApiOptions;
  /**
   * Trust-domain migration (Istio's trustDomainAliases): a policy principal written for a key's
   * domain also matches the same path in each listed domain. Read by the policy engine; the
   * listed domains must still be trusted here (have a bundle) for their callers to verify.
   */
  readonly trustDomainAliases?: Readonly<Record<string, readonly string[]>>;
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

export type NormalizedTrustDomain =
  | { readonly name: string; readonly kind: 'bundle' | 'roots'; readonly file: string }
  | { readonly name: string; readonly kind: 'endpoint'; readonly endpoint: NormalizedBundleEndpoint };

export interface NormalizedBundleEndpoint {
  readonly url: URL;
  /** Absolute path; undefined: the web PKI (Node's bundled roots). */
  readonly caFile?: string;
  readonly refreshHintMs: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export interface NormalizedOptions {
  readonly trustDomains: ReadonlyMap<string, NormalizedTrustDomain>;
  readonly workloadApi?: WorkloadApiOptions;
  readonly trustDomainAliases: ReadonlyMap<string, readonly string[]>;
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
    trustDomainAliases: normalizeTrustDomainAliases(options.trustDomainAliases),
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
    result.set(name, normalizeTrustDomain(name, domain, where, resolvePath));
  }
  return result;
}

/**
 * One source of trust per domain: a bundle file, a roots file or a bundle endpoint. A file
 * beside an endpoint (as a bootstrap) would raise which-one-wins questions on every failure;
 * either is refused here, so the answer is always the one source configured.
 */
function normalizeTrustDomain(
  name: string,
  domain: TrustDomainOptions,
  where: string,
  resolvePath: (file: string) => string,
): NormalizedTrustDomain {
  const sources = (['bundle', 'roots', 'bundleEndpoint'] as const).filter((key) => domain[key] !== undefined);
  if (sources.length !== 1) {
    const found = sources.length === 0 ? 'none' : sources.map((key) => `"${key}"`).join(' and ');
    throw new TypeError(`${where}: set exactly one of "bundle", "roots" and "bundleEndpoint" (found ${found})`);
  }
  if (domain.bundleEndpoint !== undefined) {
    return Object.freeze({ name, kind: 'endpoint', endpoint: normalizeBundleEndpoint(domain.bundleEndpoint, `${where}.bundleEndpoint`, resolvePath) });
  }
  const kind = domain.bundle !== undefined ? 'bundle' : 'roots';
  const file = nonEmptyString(domain.bundle ?? domain.roots, `${where}.${kind}`);
  return Object.freeze({ name, kind, file: resolvePath(file) });
}

const MAX_BUNDLE_BYTES = 1024 * 1024;

function normalizeBundleEndpoint(
  endpoint: BundleEndpointOptions,
  where: string,
  resolvePath: (file: string) => string,
): NormalizedBundleEndpoint {
  if (!isObject(endpoint)) throw new TypeError(`${where}: must be an object`);
  if (endpoint.profile !== 'https_web') throw new TypeError(`${where}.profile: must be "https_web" (the only profile supported)`);
  const url = httpUrl(endpoint.url, `${where}.url`);
  // https_web authenticates the server by TLS: plain http would trust whoever answers
  if (url.protocol !== 'https:') throw new TypeError(`${where}.url: must be an https URL (profile https_web)`);
  if (url.username !== '' || url.password !== '') throw new TypeError(`${where}.url: must not hold userinfo (SPIFFE Federation §5.2.1.1)`);
  const caFile = endpoint.caFile === undefined ? {} : { caFile: resolvePath(nonEmptyString(endpoint.caFile, `${where}.caFile`)) };
  return Object.freeze({
    url,
    ...caFile,
    refreshHintMs: positiveInteger(endpoint.refreshHintMs ?? 300_000, `${where}.refreshHint`),
    timeoutMs: positiveInteger(endpoint.timeoutMs ?? 5000, `${where}.timeout`),
    maxBytes: positiveInteger(endpoint.maxBytes ?? MAX_BUNDLE_BYTES, `${where}.maxBytes`),
  });
}

/**
 * Aliases stay one level deep and unambiguous: an alias is a trust domain name, is not its own
 * domain, is listed under one domain only, and is not itself aliased (no chains to follow).
 */
export function normalizeTrustDomainAliases(aliases: IdentityOptions['trustDomainAliases']): ReadonlyMap<string, readonly string[]> {
  const result = new Map<string, readonly string[]>();
  if (aliases === undefined) return result;
  if (!isObject(aliases)) throw new TypeError('identity.trustDomainAliases: must be an object');
  const owner = new Map<string, string>();
  for (const [domain, list] of Object.entries(aliases)) {
    const where = `identity.trustDomainAliases["${domain}"]`;
    if (!isTrustDomainName(domain)) throw new TypeError(`${where}: not a valid trust domain name`);
    stringList(list, where).forEach((alias, i) => {
      if (!isTrustDomainName(alias)) throw new TypeError(`${where}[${i}]: "${alias.slice(0, 200)}" is not a valid trust domain name`);
      if (alias === domain) throw new TypeError(`${where}[${i}]: a trust domain cannot be its own alias`);
      const first = owner.get(alias);
      if (first !== undefined) throw new TypeError(`${where}[${i}]: "${alias}" is already an alias of "${first}"`);
      owner.set(alias, domain);
    });
    result.set(domain, Object.freeze([...list]));
  }
  for (const domain of result.keys()) {
    const of = owner.get(domain);
    if (of !== undefined) throw new TypeError(`identity.trustDomainAliases["${domain}"]: "${domain}" is itself an alias of "${of}" (aliases do not chain)`);
  }
  return result;
}

function normalizeWorkloadApi(workloadApi: IdentityOptions['workloadApi']): Pick<NormalizedOptions, 'workloadApi'> {
  if (workloadApi === undefined) return {};
  if (!isObject(workloadApi)) throw new TypeError('identity.workloadApi: must be an object');
  const socket = nonEmptyString(workloadApi.socket, 'identity.workloadApi.socket (or SPIFFE_ENDPOINT_SOCKET)');
  parseWorkloadApiEndpoint(socket, 'identity.workloadApi.socket (or SPIFFE_ENDPOINT_SOCKET)');
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
