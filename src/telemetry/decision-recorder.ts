/**
 * One call per Check that feeds every telemetry sink: metrics, decision log, flow graph.
 * The server's hot path calls this and knows nothing of the sinks behind it.
 */
import type { AccessRequest, Authorization } from '../domain/index.js';
import type { DecisionLog } from './decision-log.js';
import type { FlowGraph } from './flow-graph.js';
import type { Metrics } from './metrics.js';

export interface DecisionRecorder {
  /**
   * The result of one Check as answered, its request (absent when it could not be read) and
   * how long it took. Never throws: a telemetry failure must not turn into a failed Check.
   */
  record(result: Authorization, request: AccessRequest | undefined, durationSeconds: number): void;
}

export interface DecisionRecorderParts {
  readonly metrics?: Metrics;
  readonly log?: DecisionLog;
  readonly flows?: FlowGraph;
}

/** Stands in for a caller or service that could not be established. */
export const UNKNOWN = 'unknown';

export function createDecisionRecorder(parts: DecisionRecorderParts): DecisionRecorder {
  const { metrics, log, flows } = parts;
  return {
    record(result, request, durationSeconds) {
      try {
        const decision = result.decision;
        const source = result.subject?.workload?.uri ?? UNKNOWN;
        const service = result.destination ?? UNKNOWN;
        metrics?.recordCheck(decision, durationSeconds, { source, destination: service });
        log?.record(result, request, durationSeconds);
        if (flows !== undefined && request !== undefined) {
          const dryRunDeny = decision.dryRun?.verdict === 'deny';
          const path = request.kind === 'http' ? request.path : undefined;
          flows.observe({ source, destination: service, method: request.method, path, verdict: decision.verdict, dryRunDeny, decider: decision });
        }
      } catch {
        // Every sink is written not to throw; this guard keeps a future bug off the hot path.
      }
    },
  };
}
