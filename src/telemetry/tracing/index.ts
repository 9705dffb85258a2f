/** Traces: one span per Check continuing Envoy's W3C trace context, identity's spans under it, exported over OTLP/HTTP. */
export { startTracing } from './start-tracing.js';
export type { RunningTracing, TracingBatch, TracingEvents, TracingOptions } from './start-tracing.js';
export { createCheckTracing, CHECK_SPAN_NAME, KEY_SET_FETCH_SPAN_NAME, VERIFICATION_SPAN_NAME } from './check-tracing.js';
export type { Tracing } from './check-tracing.js';
