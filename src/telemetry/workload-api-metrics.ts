/**
 * Metrics of the SPIFFE Workload API's bundle streams, read at scrape time from identity's
 * `IdentityStats.workloadApi`. The last update is a timestamp, as Prometheus prefers: its age
 * is `time() - meshwarden_workload_api_last_update_timestamp_seconds`, alerting needs no clock here.
 */
import type { Registry } from 'prom-client';
import type { IdentityStats, WorkloadApiStats, WorkloadSvidStats } from '../identity/index.js';
import { single, statsCounter, statsGauge, type Sample } from './stats-source.js';

const STREAMS = ['x509', 'jwt'] as const;

export function registerWorkloadApiMetrics(registry: Registry, source: () => (() => IdentityStats) | undefined): void {
  const perStream = (pick: (stats: WorkloadApiStats) => Record<(typeof STREAMS)[number], number>) => () => streamSamples(source()?.(), pick);
  statsCounter({
    registry,
    name: 'meshwarden_workload_api_updates_total',
    help: 'Workload API bundle updates, by stream (x509, jwt) and result: applied, or refused (the last good bundles kept serving).',
    labelNames: ['stream', 'result'],
    read: () => updateSamples(source()?.()),
  });
  statsCounter({
    registry,
    name: 'meshwarden_workload_api_reconnects_total',
    help: 'Workload API bundle streams that failed or ended and were opened again, by stream.',
    labelNames: ['stream'],
    read: perStream((s) => s.reconnects),
  });
  statsGauge({
    registry,
    name: 'meshwarden_workload_api_last_update_timestamp_seconds',
    help: 'When the last Workload API bundle update was applied (Unix seconds); 0 before the first, so an alert on its age (time() minus this) fires then too.',
    labelNames: [],
    // the newest update wins across workers: each worker streams on its own
    aggregator: 'max',
    read: () => {
      const at = source()?.().workloadApi.lastUpdateAt;
      return at === undefined ? [] : single(at / 1000);
    },
  });
}

function* updateSamples(stats: IdentityStats | undefined): Iterable<Sample<'stream' | 'result'>> {
  if (stats === undefined) return;
  for (const stream of STREAMS) {
    yield [{ stream, result: 'applied' }, stats.workloadApi.updates[stream]];
    yield [{ stream, result: 'refused' }, stats.workloadApi.rejected[stream]];
  }
}

function* streamSamples(
  stats: IdentityStats | undefined,
  pick: (stats: WorkloadApiStats) => Record<(typeof STREAMS)[number], number>,
): Iterable<Sample<'stream'>> {
  if (stats === undefined) return;
  for (const stream of STREAMS) yield [{ stream }, pick(stats.workloadApi)[stream]];
}

/**
 * The listener's own X.509-SVID (grpc.tls.fromWorkloadApi): its stream's updates and
 * reconnects, when the SVID in service arrived, became valid and expires, as timestamps (the
 * age is time() minus the first, the time left the last minus time(), its lifetime the last
 * minus the second: SPIRE rotates at half of it, so less than a third left means rotation stalled).
 */
export function registerSvidMetrics(registry: Registry, source: () => (() => Readonly<WorkloadSvidStats>) | undefined): void {
  const read = (pick: (stats: Readonly<WorkloadSvidStats>) => number | undefined) => () => {
    const value = source() && pick(source()!());
    return value === undefined ? [] : single(value);
  };
  statsCounter({
    registry,
    name: 'meshwarden_workload_api_svid_updates_total',
    help: "The gRPC listener's X.509-SVID updates from the Workload API, by result: applied, or refused (the last good SVID kept serving).",
    labelNames: ['result'],
    read: () => {
      const stats = source()?.();
      return stats === undefined ? [] : [[{ result: 'applied' }, stats.updates], [{ result: 'refused' }, stats.rejected]];
    },
  });
  statsCounter({
    registry,
    name: 'meshwarden_workload_api_svid_reconnects_total',
    help: "Times the listener's FetchX509SVID stream failed or ended and was opened again.",
    labelNames: [],
    read: read((stats) => stats.reconnects),
  });
  statsGauge({
    registry,
    name: 'meshwarden_workload_api_svid_last_update_timestamp_seconds',
    help: "When the listener's X.509-SVID in service arrived (Unix seconds); 0 before the first.",
    labelNames: [],
    aggregator: 'min', // the oldest SVID across workers is the one an alert is about
    read: read((stats) => (stats.lastUpdateAt ?? 0) / 1000),
  });
  statsGauge({
    registry,
    name: 'meshwarden_workload_api_svid_not_before_timestamp_seconds',
    help: "When the listener's X.509-SVID in service became valid, its notBefore (Unix seconds); 0 before the first.",
    labelNames: [],
    aggregator: 'min', // paired with the expiry's min: the oldest SVID across workers
    read: read((stats) => (stats.validFrom ?? 0) / 1000),
  });
  statsGauge({
    registry,
    name: 'meshwarden_workload_api_svid_expiry_timestamp_seconds',
    help: "When the listener's X.509-SVID in service expires (Unix seconds); 0 before the first.",
    labelNames: [],
    aggregator: 'min',
    read: read((stats) => (stats.expiresAt ?? 0) / 1000),
  });
}
