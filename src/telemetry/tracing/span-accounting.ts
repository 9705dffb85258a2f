/**
 * Where every recorded span went: exported, or lost because the batch queue was full or its
 * export failed. The SDK's BatchSpanProcessor drops spans past its queue telling no one but a
 * debug log; a processor of ours in front of it keeps the same bound and counts what it turns
 * away, and the exporter below it counts what each export did. Both sides only bump numbers:
 * a span's end on the Check path stays synchronous and never waits.
 */
import { TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export type SpanLoss = 'queue_full' | 'export_failed';

/** Running totals since start; they only grow. */
export interface SpanCounts {
  readonly exported: number;
  readonly dropped: Readonly<Record<SpanLoss, number>>;
}

export class SpanAccounting {
  exported = 0;
  readonly dropped: Record<SpanLoss, number> = { queue_full: 0, export_failed: 0 };
  /** Spans handed to the batch queue and not yet to the exporter. */
  queued = 0;

  counts(): SpanCounts {
    return { exported: this.exported, dropped: { ...this.dropped } };
  }
}

/**
 * In front of the batch processor, with its queue's capacity: a sampled span that would find
 * the queue full is counted and not handed on, so the SDK never drops one silently. The batch
 * processor hands spans to the exporter in the same turn it takes them off its queue (it
 * waits first only for a resource's async attributes, and ours has none), which is when
 * `countingExporter` lowers `queued`; were it ever later, this would turn spans away early,
 * counted, never let the SDK drop one unseen.
 */
export class BoundedSpanQueue implements SpanProcessor {
  readonly #next: SpanProcessor;
  readonly #capacity: number;
  readonly #accounting: SpanAccounting;
  #closed = false;

  constructor(next: SpanProcessor, capacity: number, accounting: SpanAccounting) {
    this.#next = next;
    this.#capacity = capacity;
    this.#accounting = accounting;
  }

  onStart(span: Span, parentContext: Context): void {
    this.#next.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if (this.#closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#accounting.queued >= this.#capacity) {
      this.#accounting.dropped.queue_full += 1;
      return;
    }
    this.#accounting.queued += 1;
    this.#next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#next.forceFlush();
  }

  shutdown(): Promise<void> {
    this.#closed = true;
    return this.#next.shutdown();
  }
}

/** The exporter, counting the spans of each export by its result. */
export function countingExporter(exporter: SpanExporter, accounting: SpanAccounting): SpanExporter {
  return {
    export(spans, done) {
      accounting.queued = Math.max(0, accounting.queued - spans.length);
      exporter.export(spans, (result: ExportResult) => {
        if (result.code === ExportResultCode.SUCCESS) accounting.exported += spans.length;
        else accounting.dropped.export_failed += spans.length;
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
