/**
 * Traces: one span per Check continuing Envoy's W3C trace context, identity's spans under it,
 * exported over OTLP/HTTP. The OpenTelemetry SDK is loaded by `loadTracing`, only when tracing
 * is configured: off, a server (and each of its workers) neither loads nor holds it.
 */
import type { startTracing, RunningTracing } from './start-tracing.js';

export type { RunningTracing, TracingBatch, TracingEvents, TracingOptions } from './start-tracing.js';
export type { Tracing } from './check-tracing.js';
export type { SpanCounts, SpanLoss } from './span-accounting.js';
export { registerTraceMetrics } from './trace-metrics.js';
export { CHECK_SPAN_NAME, KEY_SET_FETCH_SPAN_NAME, VERIFICATION_SPAN_NAME } from './span-names.js';

export async function loadTracing(...args: Parameters<typeof startTracing>): Promise<RunningTracing> {
  const { startTracing } = await import('./start-tracing.js');
  return startTracing(...args);
}
