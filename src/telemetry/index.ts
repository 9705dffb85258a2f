/** Telemetry: Prometheus metrics, the decision log, the flow graph, and cluster aggregation. */
export { createMetrics, CHECK_DURATION_BUCKETS } from './metrics.js';
export type { Metrics, MetricsOptions, MetricsDeps } from './metrics.js';
export { buildInfo } from './build-info.js';
export type { BuildInfo } from './build-info.js';
export type { PolicyGauges } from './policy-metrics.js';
export type { FlowLabels, PolicyMatchAction } from './optional-metrics.js';
export { TOKEN_KINDS } from './source-metrics.js';
export type { CacheStats, MetricsSources } from './source-metrics.js';
export { statsCounter, statsGauge } from './stats-source.js';
export type { Sample, StatsMetricConfig } from './stats-source.js';
export { createDecisionLog, mustLog } from './decision-log.js';
export type { DecisionLog, DecisionLogDeps } from './decision-log.js';
export { resolveDecisionLogOptions, REFUSED_HEADERS } from './decision-log-options.js';
export type { DecisionLogOptions, ResolvedDecisionLogOptions } from './decision-log-options.js';
export { MASKED, MASKABLE_FIELDS } from './decision-log-rules.js';
export type { DropRule } from './decision-log-rules.js';
export { DROP_REASONS, OPA_EVENT_PATH, OTLP_EVENT_NAME, SINK_DEFAULTS } from './decision-sinks/index.js';
export type { DecisionLogStats, DecisionSinkOptions, DropReason, DropSample, SinkStats } from './decision-sinks/index.js';
export type { DecisionLine } from './decision-line.js';
export { FlowGraph, DEFAULT_FLOW_GRAPH_LIMITS } from './flow-graph.js';
export type { FlowObservation, FlowGraphLimits, FlowGraphSnapshot, EdgeSnapshot, PathSnapshot, VerdictDetail, VerdictDetails } from './flow-graph.js';
export { templatePath, templateSegment, identifierKind, ANY_SEGMENT } from './path-template.js';
export type { IdentifierKind } from './path-template.js';
export { createDecisionRecorder } from './decision-recorder.js';
export type { DecisionRecorder, DecisionRecorderParts } from './decision-recorder.js';
export { createClusterMetricsAggregator, answerTelemetryRequests } from './cluster-telemetry.js';
export type {
  ClusterMetricsAggregator,
  ClusterMetricsAggregatorOptions,
  TelemetryResponderOptions,
  TelemetryPeer,
  TelemetryChannel,
} from './cluster-telemetry.js';
export { TelemetryOptionError } from './errors.js';
export { loadTracing, registerTraceMetrics, CHECK_SPAN_NAME, KEY_SET_FETCH_SPAN_NAME, VERIFICATION_SPAN_NAME } from './tracing/index.js';
export type { RunningTracing, Tracing, TracingBatch, TracingOptions } from './tracing/index.js';
export { TokenBucket } from './token-bucket.js';
export type { TelemetryOptionCode } from './errors.js';
