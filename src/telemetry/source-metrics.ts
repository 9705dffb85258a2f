/**
 * Metrics of the decision cache, token cache, token verification and JWKS fetches, read at
 * scrape time from stats functions the authz and identity layers expose. The label values
 * are enumerated here, so a stats object can never introduce a series.
 */
import type { Registry } from 'prom-client';
import { single, statsCounter, statsGauge, type Sample } from './stats-source.js';

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

export const TOKEN_KINDS = Object.freeze(['jwt_svid', 'oidc', 'x509_svid'] as const);
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface VerificationCounts {
  readonly valid: number;
  readonly invalid: number;
}

export interface IdentityStats {
  readonly verifications: Readonly<Partial<Record<TokenKind, VerificationCounts>>>;
  readonly jwksFetches: { readonly success: number; readonly failure: number };
}

/** Each source is a cheap function returning running totals; an absent one reads as zero. */
export interface MetricsSources {
  readonly decisionCache?: () => CacheStats;
  readonly tokenCache?: () => CacheStats;
  readonly identity?: () => IdentityStats;
  readonly decisionLogDropped?: () => number;
}

export function registerSourceMetrics(registry: Registry, sources: () => MetricsSources): void {
  registerCacheMetrics(registry, 'decision_cache', 'decision', () => sources().decisionCache);
  registerCacheMetrics(registry, 'token_cache', 'verified token', () => sources().tokenCache);
  registerIdentityMetrics(registry, () => sources().identity);
  statsCounter({
    registry,
    name: 'meshwarden_decision_log_dropped_total',
    help: 'Decision log lines dropped by the volume limit.',
    labelNames: [],
    read: () => single(sources().decisionLogDropped?.() ?? 0),
  });
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
}

function* verificationSamples(stats: IdentityStats | undefined): Iterable<Sample<'kind' | 'result'>> {
  if (stats === undefined) return;
  for (const kind of TOKEN_KINDS) {
    const counts = stats.verifications[kind];
    yield [{ kind, result: 'valid' }, counts?.valid ?? 0];
    yield [{ kind, result: 'invalid' }, counts?.invalid ?? 0];
  }
}

function* jwksSamples(stats: IdentityStats | undefined): Iterable<Sample<'result'>> {
  if (stats === undefined) return;
  yield [{ result: 'success' }, stats.jwksFetches.success];
  yield [{ result: 'failure' }, stats.jwksFetches.failure];
}
