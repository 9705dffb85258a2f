/**
 * Metrics of the decision log and its off-box sinks, read at scrape time from the log's
 * running totals: what was lost (by sink and reason), what each sink delivered, how often a
 * send failed, and how many lines wait in each buffer.
 */
import type { Registry } from 'prom-client';
import type { DecisionLogStats, SinkStats } from './decision-sinks/index.js';
import { single, statsCounter, statsGauge } from './stats-source.js';

export function registerDecisionLogMetrics(registry: Registry, source: () => (() => DecisionLogStats) | undefined): void {
  const stats = () => source()?.();
  statsCounter({
    registry,
    name: 'meshwarden_decision_log_dropped_total',
    help: 'Decision log lines lost, by sink (all: before any sink) and reason (rate_limited, output_error, buffer_full, evicted_by_deny, too_large, rejected, shutdown).',
    labelNames: ['sink', 'reason'],
    read: () => (stats()?.dropped ?? []).map(({ sink, reason, count }) => [{ sink, reason }, count] as const),
  });
  statsCounter({
    registry,
    name: 'meshwarden_decision_log_filtered_total',
    help: 'Decision log lines skipped by a decisionLog.drop rule (by choice, not lost).',
    labelNames: [],
    read: () => single(stats()?.filtered ?? 0),
  });
  perSink(registry, stats, 'sent_lines_total', 'Decision log lines a sink delivered.', (s) => s.sentLines);
  perSink(registry, stats, 'sent_batches_total', 'Decision log batches a sink delivered.', (s) => s.sentBatches);
  perSink(registry, stats, 'send_failures_total', 'Decision log batch sends that failed and will be retried.', (s) => s.failures);
  statsGauge({
    registry,
    name: 'meshwarden_decision_log_buffered_lines',
    help: 'Decision log lines waiting in a sink (buffer and batch in flight).',
    labelNames: ['sink'],
    aggregator: 'sum',
    read: () => (stats()?.sinks ?? []).map((s) => [{ sink: s.sink }, s.buffered] as const),
  });
}

function perSink(registry: Registry, stats: () => DecisionLogStats | undefined, suffix: string, help: string, pick: (s: SinkStats) => number): void {
  statsCounter({
    registry,
    name: `meshwarden_decision_log_${suffix}`,
    help,
    labelNames: ['sink'],
    read: () => (stats()?.sinks ?? []).map((s) => [{ sink: s.sink }, pick(s)] as const),
  });
}
