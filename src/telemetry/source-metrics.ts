/**
 * Metrics of the decision cache, token cache, token verification and JWKS fetches, read at
 * scrape time from the plain stats the authz and identity layers keep (identity's
 * `IdentityStats` is the contract, imported as a type only). Label values are enumerated
 * here, so a stats object can never introduce a series.
 */
import type { Registry } from 'prom-client';
import { BUNDLE_ERROR_CODES, KEY_SOURCES, type BundleErrorCode, type IdentityStats, type JwksFetchStats, type KeySource, type VerificationKind, type WorkloadSvidStats } from '../identity/index.js';
import { single, statsCounter, statsGauge, type Sample } from './stats-source.js';
import { registerDecisionLogMetrics } from './decision-log-metrics.js';
import type { DecisionLogStats } from './decision-sinks/index.js';
import { registerSvidMetrics, registerWorkloadApiMetrics } from './workload-api-metrics.js';
import { registerBundleEndpointMetrics } from './bundle-endpoint-metrics.js';

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

/** Identity's verification kinds (its names) and their label values (snake_case, fixed). */
const KIND_LABELS: ReadonlyArray<readonly [VerificationKind, string]> = Object.freeze([
  ['x509-svid', 'x509_svid'],
  ['xfcc', 'xfcc'],
  ['jwt-svid', 'jwt_svid'],
  ['oidc', 'oidc'],
  ['jwt-authn-metadata', 'jwt_authn_metadata'],
] as const);
export const TOKEN_KINDS: readonly string[] = Object.freeze(KIND_LABELS.map(([, label]) => label));

const JWKS_RESULTS: ReadonlyArray<readonly [keyof JwksFetchStats, string]> = Object.freeze([
  ['ok', 'success'],
  ['invalid', 'invalid'],
  ['httpError', 'http_error'],
  ['error', 'error'],
] as const);

/** Each source is a cheap function returning running totals; an absent one reads as zero. */
export interface MetricsSources {
  readonly decisionCache?: () => CacheStats;
  /** Defaults to the identity source's `tokenCache`. */
  readonly tokenCache?: () => CacheStats;
  readonly identity?: () => IdentityStats;
  /** The decision log's totals: lines lost by sink and reason, what each sink sent. */
  readonly decisionLog?: () => DecisionLogStats;
  /** What clients hold on the gRPC listener now (a transport that cannot tell leaves a field out). */
  readonly grpcListener?: () => ListenerLoad;
  /** The same of the HTTP ext_authz listener, when it is on. */
  readonly httpListener?: () => ListenerLoad;
  /** The gRPC listener's X.509-SVID stream, with grpc.tls.fromWorkloadApi. */
  readonly listenerSvid?: () => Readonly<WorkloadSvidStats>;
  /** What `/readyz` says now: a gauge, so an alert can see readiness flap. */
  readonly ready?: () => boolean;
}

export interface ListenerLoad {
  readonly connections?: number;
  readonly bufferedBytes?: number;
}

export function registerSourceMetrics(registry: Registry, sources: () => MetricsSources): void {
  registerCacheMetrics(registry, 'decision_cache', 'decision', () => sources().decisionCache);
  registerCacheMetrics(registry, 'token_cache', 'verified credential', () => tokenCacheSource(sources()));
  registerIdentityMetrics(registry, () => sources().identity);
  registerDecisionLogMetrics(registry, () => sources().decisionLog);
  statsGauge({
    registry,
    name: 'meshwarden_ready',
    help: 'Whether this process is ready (1) or not (0), as /readyz says.',
    labelNames: [],
    read: () => single(sources().ready?.() === true ? 1 : 0),
    aggregator: 'min', // ready only when every worker is, as the primary's /readyz
  });
  registerListenerMetrics(registry, 'grpc', 'gRPC calls', () => sources().grpcListener);
  registerListenerMetrics(registry, 'http', 'HTTP ext_authz requests', () => sources().httpListener);
  registerSvidMetrics(registry, () => sources().listenerSvid);
}

/** One pair of gauges per listener: a listener that is off (or cannot tell) has no series. */
function registerListenerMetrics(registry: Registry, listener: 'grpc' | 'http', calls: string, source: () => (() => ListenerLoad) | undefined): void {
  const read = (pick: 'connections' | 'bufferedBytes') => () => {
    const value = source()?.()[pick];
    return value === undefined ? [] : single(value);
  };
  statsGauge({ registry, name: `meshwarden_${listener}_connections`, help: `Open connections on the ${listener === 'grpc' ? 'gRPC' : 'HTTP ext_authz'} listener.`, labelNames: [], read: read('connections') });
  statsGauge({
    registry,
    name: `meshwarden_${listener}_buffered_request_bytes`,
    help: `Request bytes buffered for ${calls} still arriving (bounded by ${listener}.limits.bufferedBytes).`,
    labelNames: [],
    read: read('bufferedBytes'),
  });
}

function tokenCacheSource(sources: MetricsSources): (() => CacheStats) | undefined {
  const identity = sources.identity;
  return sources.tokenCache ?? (identity === undefined ? undefined : () => identity().tokenCache);
}

function registerCacheMetrics(
  registry: Registry,
  prefix: string,
  what: string,
  source: () => (() => CacheStats) | undefined,
): void {
  const read = (pick: (stats: CacheStats) => number) => () => {
    const stats = source()?.();
    return stats === undefined ? [] : single(pick(stats));
  };
  const name = `meshwarden_${prefix}`;
  statsCounter({ registry, name: `${name}_hits_total`, help: `Lookups that found a cached ${what}.`, labelNames: [], read: read((s) => s.hits) });
  statsCounter({ registry, name: `${name}_misses_total`, help: `Lookups that found no cached ${what}.`, labelNames: [], read: read((s) => s.misses) });
  statsGauge({ registry, name: `${name}_entries`, help: `Entries in the ${what} cache.`, labelNames: [], read: read((s) => s.entries) });
}

function registerIdentityMetrics(registry: Registry, source: () => (() => IdentityStats) | undefined): void {
  statsCounter({
    registry,
    name: 'meshwarden_token_verifications_total',
    help: 'Credential verifications by kind and result (cache misses only).',
    labelNames: ['kind', 'result'],
    read: () => verificationSamples(source()?.()),
  });
  statsCounter({
    registry,
    name: 'meshwarden_jwks_fetches_total',
    help: 'Remote JWKS fetches by result.',
    labelNames: ['result'],
    read: () => jwksSamples(source()?.()),
  });
  registerKeyFileMetrics(registry, source);
  registerWorkloadApiMetrics(registry, source);
  registerBundleEndpointMetrics(registry, source);
}

/** Key file sources and load errors as label values (snake_case, fixed). */
const SOURCE_LABELS: Readonly<Record<KeySource, string>> = { 'trust-domain': 'trust_domain', issuer: 'issuer' };
const BUNDLE_ERROR_LABELS: Readonly<Record<BundleErrorCode, string>> = {
  ERR_BUNDLE_READ: 'unreadable',
  ERR_BUNDLE_JSON: 'not_json',
  ERR_BUNDLE_INVALID: 'invalid',
  ERR_BUNDLE_KEY: 'invalid_key',
  ERR_BUNDLE_FETCH: 'fetch_failed',
  ERR_BUNDLE_SEQUENCE: 'sequence_backwards',
};

/** Bundles, roots and JWKS files: how many are loaded, stale or unavailable now, and the loads that failed. */
function registerKeyFileMetrics(registry: Registry, source: () => (() => IdentityStats) | undefined): void {
  statsGauge({
    registry,
    name: 'meshwarden_trust_material_files',
    help: 'Trust bundles, roots and JWKS files by state: loaded; stale (the last load failed, the last good keys serve); unavailable (never loaded: Checks that need them are denied identity_unavailable).',
    labelNames: ['source', 'state'],
    read: () => keyFileSamples(source()?.()),
  });
  statsCounter({
    registry,
    name: 'meshwarden_trust_material_load_failures_total',
    help: 'Loads of a trust bundle, roots or JWKS file that failed, by source and cause.',
    labelNames: ['source', 'cause'],
    read: () => keyFileFailureSamples(source()?.()),
  });
}

function* keyFileSamples(stats: IdentityStats | undefined): Iterable<Sample<'source' | 'state'>> {
  if (stats === undefined) return;
  for (const keySource of KEY_SOURCES) {
    for (const [state, count] of Object.entries(stats.keyFiles.files[keySource])) yield [{ source: SOURCE_LABELS[keySource], state }, count];
  }
}

function* keyFileFailureSamples(stats: IdentityStats | undefined): Iterable<Sample<'source' | 'cause'>> {
  if (stats === undefined) return;
  for (const keySource of KEY_SOURCES) {
    for (const code of BUNDLE_ERROR_CODES) {
      yield [{ source: SOURCE_LABELS[keySource], cause: BUNDLE_ERROR_LABELS[code] }, stats.keyFiles.failures[keySource][code] ?? 0];
    }
  }
}

function* verificationSamples(stats: IdentityStats | undefined): Iterable<Sample<'kind' | 'result'>> {
  if (stats === undefined) return;
  for (const [kind, label] of KIND_LABELS) {
    const counts = stats.verifications[kind];
    yield [{ kind: label, result: 'valid' }, counts?.ok ?? 0];
    yield [{ kind: label, result: 'invalid' }, counts?.failed ?? 0];
  }
}

function* jwksSamples(stats: IdentityStats | undefined): Iterable<Sample<'result'>> {
  if (stats === undefined) return;
  for (const [field, result] of JWKS_RESULTS) yield [{ result }, stats.jwksFetches[field]];
}
