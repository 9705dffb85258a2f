/**
 * Metrics of SPIFFE bundle endpoints (federation), read at scrape time from identity's
 * `IdentityStats.bundleEndpoints`, labelled by the configured trust domain (a closed set: the
 * config's). The last good bundle is a timestamp, as Prometheus prefers: its age is
 * `time() - meshwarden_bundle_endpoint_last_good_timestamp_seconds`.
 */
import type { Registry } from 'prom-client';
import { BUNDLE_FETCH_OUTCOMES, type BundleEndpointStats, type IdentityStats } from '../identity/index.js';
import { statsCounter, statsGauge, type Sample } from './stats-source.js';

type Source = () => (() => IdentityStats) | undefined;

export function registerBundleEndpointMetrics(registry: Registry, source: Source): void {
  statsCounter({
    registry,
    name: 'meshwarden_bundle_endpoint_fetches_total',
    help: 'Polls of SPIFFE bundle endpoints, by trust domain and outcome: applied, unchanged, or refused with the last good bundle kept (error, http_error, too_large, invalid, sequence_backwards).',
    labelNames: ['trust_domain', 'outcome'],
    read: () => fetchSamples(source()?.()),
  });
  statsGauge({
    registry,
    name: 'meshwarden_bundle_endpoint_last_good_timestamp_seconds',
    help: 'When a poll of the trust domain\'s bundle endpoint last brought a good bundle (Unix seconds); 0 before the first, so an alert on its age fires then too.',
    labelNames: ['trust_domain'],
    aggregator: 'max',
    read: () => perDomain(source()?.(), (stats) => (stats.lastGoodAt ?? 0) / 1000),
  });
  statsGauge({
    registry,
    name: 'meshwarden_bundle_endpoint_sequence',
    help: 'spiffe_sequence of the bundle in service from the trust domain\'s bundle endpoint (absent while it carries none).',
    labelNames: ['trust_domain'],
    aggregator: 'max',
    read: () => perDomain(source()?.(), (stats) => stats.sequence ?? Number.NaN),
  });
}

function* fetchSamples(stats: IdentityStats | undefined): Iterable<Sample<'trust_domain' | 'outcome'>> {
  for (const [domain, endpoint] of Object.entries(stats?.bundleEndpoints ?? {})) {
    for (const outcome of BUNDLE_FETCH_OUTCOMES) yield [{ trust_domain: domain, outcome }, endpoint.fetches[outcome]];
  }
}

function* perDomain(stats: IdentityStats | undefined, value: (stats: BundleEndpointStats) => number): Iterable<Sample<'trust_domain'>> {
  for (const [domain, endpoint] of Object.entries(stats?.bundleEndpoints ?? {})) yield [{ trust_domain: domain }, value(endpoint)];
}
