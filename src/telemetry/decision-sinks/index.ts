/** Decision-log sinks off the box: OPA's HTTP decision-log upload and OTLP logs. */
export { createDecisionSinks } from './create-sinks.js';
export type { DecisionSinks } from './create-sinks.js';
export { resolveSinkOptions, SINK_DEFAULTS } from './options.js';
export type { DecisionSinkOptions, DecisionSinkType, ResolvedDecisionSinkOptions } from './options.js';
export { opaEvent, OPA_EVENT_PATH } from './opa-event.js';
export { OTLP_EVENT_NAME } from './otlp-transport.js';
export { DROP_REASONS, DropCounts } from './stats.js';
export type { DecisionLogStats, DropReason, DropSample, SinkStats } from './stats.js';
export type { ShipperDeps } from './shipper.js';
