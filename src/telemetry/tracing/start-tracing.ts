/**
 * The OpenTelemetry SDK behind the spans: a tracer provider of its own (nothing registered
 * globally), a sampler by ratio of trace ids that follows a remote parent's decision when
 * `parentBased`, and a batch of spans exported over OTLP/HTTP off the Check path.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { buildInfo } from '../build-info.js';
import { readCaFile } from '../ca-file.js';
import { createCheckTracing, type Tracing } from './check-tracing.js';
import { BoundedSpanQueue, countingExporter, SpanAccounting, type SpanCounts } from './span-accounting.js';

/** The SDK's default: spans waiting for export past this many are dropped (and counted). */
const MAX_QUEUE_SIZE = 2_048;
/** The SDK's default batch; never more than the queue holds. */
const MAX_EXPORT_BATCH_SIZE = 512;

export interface TracingOptions {
  readonly otlp: {
    /** The URL spans are POSTed to, e.g. http://otel-collector:4318/v1/traces. */
    readonly endpoint: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
    /** PEM CA certificates that verify an https endpoint, instead of Node's public roots. */
    readonly caFile?: string;
  };
  /** Of the traces that start here (no parent, or `parentBased: false`), the share that is recorded, 0 to 1. */
  readonly sampleRate: number;
  /** A Check under a remote parent is recorded when, and only when, the parent was. */
  readonly parentBased: boolean;
}

export interface TracingBatch {
  /** Between two exports; default the SDK's 5 s. */
  readonly scheduledDelayMs?: number;
  /** Spans waiting for export before more are dropped; default the SDK's 2,048 (tests make it small). */
  readonly maxQueueSize?: number;
}

export interface TracingEvents {
  /**
   * An export failed (`cause`: the exporter's error message, e.g. ECONNREFUSED or an HTTP
   * status; never a span), or, `cause` undefined, one succeeded after failures. Must not throw.
   */
  readonly onExport?: (cause: string | undefined) => void;
}

export interface RunningTracing {
  readonly tracing: Tracing;
  /** What became of the recorded spans so far: exported, or dropped and why. */
  counts(): SpanCounts;
  /** Exports what is left, within `timeoutMs`; later spans are not recorded. */
  shutdown(timeoutMs: number): Promise<void>;
}

export function startTracing(options: TracingOptions, batch: TracingBatch = {}, events: TracingEvents = {}): RunningTracing {
  const otlp = new OTLPTraceExporter({
    url: options.otlp.endpoint,
    headers: { ...options.otlp.headers },
    timeoutMillis: options.otlp.timeoutMs,
    ...agentOptionsOf(options.otlp),
  });
  const accounting = new SpanAccounting();
  const exporter = countingExporter(events.onExport === undefined ? otlp : toldOfFailures(otlp, events.onExport), accounting);
  const maxQueueSize = batch.maxQueueSize ?? MAX_QUEUE_SIZE;
  const batched = new BatchSpanProcessor(exporter, {
    maxQueueSize,
    maxExportBatchSize: Math.min(MAX_EXPORT_BATCH_SIZE, maxQueueSize),
    ...(batch.scheduledDelayMs === undefined ? {} : { scheduledDelayMillis: batch.scheduledDelayMs }),
  });
  const { version } = buildInfo();
  const provider = new BasicTracerProvider({
    sampler: samplerOf(options),
    resource: resourceFromAttributes({ 'service.name': 'meshwarden', 'service.version': version }),
    spanProcessors: [new BoundedSpanQueue(batched, maxQueueSize, accounting)],
  });
  return {
    tracing: createCheckTracing(provider.getTracer('meshwarden', version)),
    counts: () => accounting.counts(),
    shutdown: (timeoutMs) => withinTime(provider.shutdown(), timeoutMs),
  };
}

/** The exporter, telling of each failure and of the first success after failures (the SDK itself only tells its diag logger). */
function toldOfFailures(exporter: SpanExporter, onExport: (cause: string | undefined) => void): SpanExporter {
  let failing = false;
  const tell = (cause: string | undefined) => {
    try {
      onExport(cause);
    } catch {
      // told, never trusted
    }
  };
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          if (failing) tell(undefined);
          failing = false;
        } else {
          failing = true;
          tell(result.error?.message ?? 'export failed');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** The exporter's own https.Agent options: an https endpoint is verified against caFile's certificates. */
function agentOptionsOf({ endpoint, caFile }: TracingOptions['otlp']): { httpAgentOptions?: { keepAlive: true; ca: string } } {
  if (caFile === undefined) return {};
  const ca = readCaFile({ option: 'tracing.otlp.caFile', path: caFile, url: endpoint, urlOption: 'tracing.otlp.endpoint' });
  return { httpAgentOptions: { keepAlive: true, ca } };
}

function samplerOf({ sampleRate, parentBased }: TracingOptions): Sampler {
  const ratio = new TraceIdRatioBasedSampler(sampleRate);
  return parentBased ? new ParentBasedSampler({ root: ratio }) : ratio;
}

/** A collector that does not answer must not hold a shutdown past its drain timeout. */
async function withinTime(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
