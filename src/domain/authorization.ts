/**
 * The one result of a Check, from the pipeline (authz/) through the Check service (check/) to
 * telemetry: the decision, who asked, and the destination it was for, each worked out once.
 */
import type { Decision } from './decision.js';
import type { Subject } from './subject.js';

export interface Authorization {
  readonly decision: Decision;
  /** Who called; absent when identity failed or the request was never read. */
  readonly subject?: Subject;
  /** The destination service, resolved once per Check; absent when the request names none or was never read. */
  readonly destination?: string;
  /** Only for a request that could not be read (no AccessRequest carries its id): the id its 400 named. */
  readonly requestId?: string;
  /** The trace this Check belongs to, when tracing is on and a trace context is present (for the decision log). */
  readonly trace?: TraceIds;
}

/** W3C trace context ids, lower-case hex: the trace, and the span the Check is logged under. */
export interface TraceIds {
  readonly traceId: string;
  readonly spanId: string;
}
