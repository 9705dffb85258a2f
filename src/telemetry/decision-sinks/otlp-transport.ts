/**
 * The OTLP logs sink: each decision line is one OpenTelemetry log record, exported by the
 * SDK's OTLP/HTTP log exporter (JSON), so any OTLP collector takes it. The fields are the
 * record's attributes under the line's own names (headers as `headers.<name>`); a deny is
 * WARN and an allow INFO; a line with a trace context carries it as the record's span context.
 * Batching, buffering and retry stay the shipper's, so allows go before denies here too.
 * The exporter (the SDK's OTLP and resource packages) is loaded at the first send, not at start:
 * a server without an OTLP sink, and each worker until its first batch, does without it.
 */
import { TraceFlags } from '@opentelemetry/api';
import { SeverityNumber, type LogAttributes } from '@opentelemetry/api-logs';
import type { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { buildInfo } from '../build-info.js';
import type { DecisionLine } from '../decision-line.js';
import type { QueuedLine } from './line-queue.js';
import type { ResolvedDecisionSinkOptions } from './options.js';
import type { SendOutcome, Transport } from './shipper.js';

export const OTLP_EVENT_NAME = 'meshwarden.decision';
const SCOPE = { name: 'meshwarden.decision-log', version: buildInfo().version };

interface Exporting {
  readonly exporter: OTLPLogExporter;
  readonly resource: ReadableLogRecord['resource'];
  readonly success: number;
}

export function otlpTransport(options: ResolvedDecisionSinkOptions): Transport<DecisionLine> {
  let exporting: Promise<Exporting> | undefined;
  const loaded = () => (exporting ??= loadExporter(options));
  return {
    encode: (entry) => JSON.stringify(entry.line),
    async send(batch, signal) {
      const { exporter, resource, success } = await loaded();
      const records = batch.entries.map((entry) => logRecord(entry, resource));
      return new Promise<SendOutcome>((resolve) => {
        const settle = (outcome: SendOutcome): void => {
          clearTimeout(deadline);
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        };
        const onAbort = () => settle('retry');
        // The exporter's timeout is its socket's idle time: a receiver dripping its answer a byte
        // at a time never trips it, and the sink waited on that batch for good.
        const deadline = setTimeout(() => settle('retry'), options.timeoutMs);
        signal.addEventListener('abort', onAbort, { once: true });
        exporter.export(records, (result) => settle(result.code === success ? 'sent' : 'retry'));
      });
    },
    close: async () => {
      if (exporting !== undefined) await (await exporting).exporter.shutdown().catch(() => undefined);
    },
  };
}

async function loadExporter(options: ResolvedDecisionSinkOptions): Promise<Exporting> {
  const [{ OTLPLogExporter }, { resourceFromAttributes }, { ExportResultCode }] = await Promise.all([
    import('@opentelemetry/exporter-logs-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ]);
  return {
    exporter: new OTLPLogExporter({
      url: options.url,
      headers: { ...options.headers },
      timeoutMillis: options.timeoutMs,
      // the exporter's own https.Agent options: an https receiver is verified against caFile's certificates
      ...(options.ca === undefined ? {} : { httpAgentOptions: { keepAlive: true, ca: options.ca } }),
    }),
    resource: resourceFromAttributes({ 'service.name': 'meshwarden', 'service.version': buildInfo().version }),
    success: ExportResultCode.SUCCESS,
  };
}

function logRecord(entry: QueuedLine<DecisionLine>, resource: ReadableLogRecord['resource']): ReadableLogRecord {
  const line = entry.line;
  const time = hrTime(entry.timeMs);
  return {
    hrTime: time,
    hrTimeObserved: time,
    severityNumber: entry.deny ? SeverityNumber.WARN : SeverityNumber.INFO,
    severityText: entry.deny ? 'WARN' : 'INFO',
    body: `${line.decision} ${line.reason}`,
    eventName: OTLP_EVENT_NAME,
    resource,
    instrumentationScope: SCOPE,
    attributes: attributesOf(line),
    droppedAttributesCount: 0,
    ...(line.trace_id !== undefined && line.span_id !== undefined
      ? { spanContext: { traceId: line.trace_id, spanId: line.span_id, traceFlags: TraceFlags.SAMPLED } }
      : {}),
  };
}

function attributesOf(line: DecisionLine): LogAttributes {
  const attributes: LogAttributes = {};
  for (const [key, value] of Object.entries(line)) {
    if (value === undefined || key === 'trace_id' || key === 'span_id') continue;
    if (key === 'headers') {
      for (const [name, header] of Object.entries(value as Record<string, string>)) attributes[`headers.${name}`] = header;
    } else {
      attributes[key] = value as LogAttributes[string];
    }
  }
  return attributes;
}

function hrTime(ms: number): [number, number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
