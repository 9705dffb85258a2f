/**
 * One call per Check that feeds every telemetry sink: metrics, decision log, flow graph.
 * The server's hot path calls this and knows nothing of the sinks behind it.
 */
import type { AccessRequest, Decision, Subject } from '../domain/index.js';
import type { DecisionLog } from './decision-log.js';
import type { FlowGraph } from './flow-graph.js';
import type { Metrics } from './metrics.js';

export interface DecisionRecorder {
  /** Never throws: a telemetry failure must not turn into a failed Check. */
  record(
    decision: Decision,
    request: AccessRequest | undefined,
    subject: Subject | undefined,
    durationSeconds: number,
    destination: string | undefined,
    /** The request's id when `request` is absent (a request that could not be read): the caller was told it. */
    requestId?: string,
  ): void;
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
    record(decision, request, subject, durationSeconds, destination, requestId) {
      try {
        const source = subject?.workload?.uri ?? UNKNOWN;
        const service = destination ?? UNKNOWN;
        metrics?.recordCheck(decision, durationSeconds, { source, destination: service });
        log?.record(decision, request, subject, durationSeconds * 1e6, destination, requestId);
        if (flows !== undefined && request !== undefined) {
          const dryRunDeny = decision.dryRun?.verdict === 'deny';
          flows.observe({ source, destination: service, method: request.method, path: request.path, verdict: decision.verdict, dryRunDeny });
        }
      } catch {
        // Every sink is written not to throw; this guard keeps a future bug off the hot path.
      }
    },
  };
}
