/**
 * Builds the telemetry sinks from the configuration; each answered Check is one call to the
 * recorder. Shadow disagreements get their own counter and log line.
 */
import { Counter } from 'prom-client';
import type { ServerConfig } from '../config/index.js';
import type { ShadowDisagreement } from '../authz/index.js';
import {
  createDecisionLog,
  createDecisionRecorder,
  createMetrics,
  FlowGraph,
  loadTracing,
  registerTraceMetrics,
  type DecisionLog,
  type DecisionRecorder,
  type Metrics,
  type Tracing,
} from '../telemetry/index.js';
import type { Logger } from './logger.js';

export interface Telemetry {
  readonly metrics: Metrics;
  readonly log: DecisionLog | undefined;
  readonly flows: FlowGraph;
  /** Told of every answered Check (the Check service's `observe`). */
  readonly recorder: DecisionRecorder;
  /** Spans of Checks and identity; absent unless `tracing` is configured. */
  readonly tracing: Tracing | undefined;
  shadowDisagreed(disagreement: ShadowDisagreement): void;
  close(): Promise<void>;
}

export async function createTelemetry(config: ServerConfig, logger: Logger): Promise<Telemetry> {
  const metrics = createMetrics({
    ...(config.metrics.perPolicy ? { policyMatches: { maxPolicies: 10_000 } } : {}),
    ...(config.metrics.flows.enabled ? { flows: { maxSeries: config.metrics.flows.maxSeries } } : {}),
  });
  const log = createDecisionLogIfAny(config);
  if (log !== undefined) metrics.attach({ decisionLog: () => log.stats() });
  const flows = new FlowGraph({ maxEdges: config.flowGraph.maxEdges, maxPathsPerEdge: config.flowGraph.maxPathsPerEdge });
  const recorder = createDecisionRecorder({ metrics, flows, ...(log ? { log } : {}) });
  const traces = config.tracing === undefined ? undefined : await loadTracing(config.tracing, {}, { onExport: traceExportLog(logger) });
  if (traces !== undefined) registerTraceMetrics(metrics.registry, () => traces.counts());
  const disagreements = new Counter({
    name: 'meshwarden_shadow_disagreements_total',
    help: 'Requests on which the shadow policy set would have decided otherwise than the enforced one.',
    labelNames: ['enforced', 'shadow'] as const,
    registers: [metrics.registry],
  });
  return {
    metrics,
    log,
    flows,
    recorder,
    tracing: traces?.tracing,
    shadowDisagreed(d) {
      disagreements.inc({ enforced: d.enforced, shadow: d.shadow });
      logger.info(
        {
          decision_id: d.decision.id,
          enforced: d.enforced,
          shadow: d.shadow,
          shadow_policy: d.shadowBy?.policy,
          source_principal: d.subject.workload?.uri,
          destination: d.destination,
          method: d.request.method,
          path: d.request.path,
        },
        'shadow disagreement',
      );
    },
    async close() {
      // the spans of the last Checks leave within the drain timeout, or not at all
      await Promise.all([log?.close(), traces?.shutdown(config.shutdown.drainMs)]);
    },
  };
}

/** Stdout or a file, or only off-box sinks; none at all when the output is off and there are no sinks. */
function createDecisionLogIfAny(config: ServerConfig): DecisionLog | undefined {
  const { decisionLog } = config;
  if (decisionLog.output === 'off' && decisionLog.sinks.length === 0) return undefined;
  // the sinks ship what they hold at shutdown within the drain timeout, after the listeners drained
  return createDecisionLog({ ...decisionLog, closeTimeoutMs: config.shutdown.drainMs });
}

/** Trace export failures, told once per cause until an export succeeds again: loud, not a flood. */
function traceExportLog(logger: Logger): (cause: string | undefined) => void {
  let told: string | undefined;
  return (cause) => {
    if (cause === undefined) {
      logger.info('trace export recovered');
    } else if (cause !== told) {
      logger.warn({ cause }, 'trace export failed; spans are dropped until the collector answers');
    }
    told = cause;
  };
}
