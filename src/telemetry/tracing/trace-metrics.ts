/**
 * Metrics of tracing, registered only when tracing is on: the spans exported, and those lost
 * (the batch queue was full: more spans ended than the collector took in time; or an export
 * failed), read at scrape time from the tracer's running totals.
 */
import type { Registry } from 'prom-client';
import { statsCounter } from '../stats-source.js';
import type { SpanCounts } from './span-accounting.js';

export function registerTraceMetrics(registry: Registry, counts: () => SpanCounts): void {
  statsCounter({
    registry,
    name: 'meshwarden_trace_spans_exported_total',
    help: 'Spans the OTLP collector accepted.',
    labelNames: [],
    read: () => [[{}, counts().exported]],
  });
  statsCounter({
    registry,
    name: 'meshwarden_trace_spans_dropped_total',
    help: 'Recorded spans that never reached the collector, by reason: queue_full (more spans waited for export than the queue holds), export_failed (the collector refused or could not be reached).',
    labelNames: ['reason'],
    read: () => Object.entries(counts().dropped).map(([reason, count]) => [{ reason }, count] as const),
  });
}
