/**
 * Running totals of the decision log and its sinks, read at scrape time by the metrics
 * (`meshwarden_decision_log_*`). Reasons are a closed list, so no input can mint a series.
 */

export const DROP_REASONS = [
  /** The volume limit (`maxLinesPerSecond`), before any sink. */
  'rate_limited',
  /** The stdout or file output failed (disk full, closed pipe). */
  'output_error',
  /** The sink's buffer was full: an allow, or a deny with only denies buffered. */
  'buffer_full',
  /** A buffered allow pushed out to make room for a deny. */
  'evicted_by_deny',
  /** One line alone is larger than the sink's batch.maxBytes. */
  'too_large',
  /** Refused for good: a status retrying cannot fix (4xx but 408/429, a redirect), or a line or batch the sink could not encode or send. */
  'rejected',
  /** Still buffered when the drain timeout ran out at shutdown. */
  'shutdown',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface DropSample {
  readonly sink: string;
  readonly reason: DropReason;
  readonly count: number;
}

export interface SinkStats {
  readonly sink: string;
  readonly sentLines: number;
  readonly sentBatches: number;
  /** Attempts that failed and will be retried (network error, timeout, 408/429/5xx). */
  readonly failures: number;
  readonly buffered: number;
}

export interface DecisionLogStats {
  readonly dropped: readonly DropSample[];
  readonly sinks: readonly SinkStats[];
  /** Lines skipped by a `decisionLog.drop` rule: by the operator's choice, not a loss. */
  readonly filtered: number;
}

/** Drop counts of one sink, by reason. */
export class DropCounts {
  private readonly counts = new Map<DropReason, number>();

  constructor(readonly sink: string) {}

  add(reason: DropReason, count = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + count);
  }

  total(): number {
    let sum = 0;
    for (const count of this.counts.values()) sum += count;
    return sum;
  }

  samples(): DropSample[] {
    return [...this.counts].map(([reason, count]) => ({ sink: this.sink, reason, count }));
  }
}
