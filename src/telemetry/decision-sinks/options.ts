/**
 * Options of the decision-log sinks that ship lines off the box, validated once at start-up
 * into frozen values. Every bound is finite: a sink's memory is its buffer plus one batch.
 */
import { readCaFile } from '../ca-file.js';
import { requireLimit, TelemetryOptionError } from '../errors.js';

export type DecisionSinkType = 'http' | 'otlp';

export interface DecisionSinkOptions {
  /** `http`: OPA's decision-log upload (gzip JSON arrays). `otlp`: OTLP/HTTP logs. */
  readonly type: DecisionSinkType;
  /** The `sink` label of its metrics; defaults to the type (unique among sinks). */
  readonly name?: string;
  /** Where batches are POSTed, e.g. http://collector:8181/logs or http://otel:4318/v1/logs. */
  readonly url: string;
  /** Sent with every batch (e.g. an Authorization header); never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly batch?: { readonly maxLines?: number; readonly maxBytes?: number; readonly maxDelayMs?: number };
  readonly buffer?: { readonly maxLines?: number };
  readonly retry?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
  /** `http` only: OPA's `labels` of every event (app, id and version are always set). */
  readonly labels?: Readonly<Record<string, string>>;
  /** PEM CA certificates that verify an https receiver, instead of Node's public roots. */
  readonly caFile?: string;
}

export interface ResolvedDecisionSinkOptions {
  readonly type: DecisionSinkType;
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly batch: { readonly maxLines: number; readonly maxBytes: number; readonly maxDelayMs: number };
  readonly bufferMaxLines: number;
  readonly retry: { readonly minDelayMs: number; readonly maxDelayMs: number };
  readonly labels: Readonly<Record<string, string>>;
  /** The certificates of `caFile`, read at start-up; absent: Node's public roots. */
  readonly ca?: string;
}

export const SINK_DEFAULTS = Object.freeze({
  timeoutMs: 10_000,
  batch: Object.freeze({ maxLines: 500, maxBytes: 1024 * 1024, maxDelayMs: 2_000 }),
  bufferMaxLines: 10_000,
  retry: Object.freeze({ minDelayMs: 500, maxDelayMs: 30_000 }),
});

const MAX_BATCH_LINES = 100_000;
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
const MAX_BUFFER_LINES = 10_000_000;
const MAX_DELAY_MS = 24 * 3600 * 1000;
const MIN_BATCH_BYTES = 1024;
const SINK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function resolveSinkOptions(sinks: readonly DecisionSinkOptions[]): readonly ResolvedDecisionSinkOptions[] {
  const resolved = sinks.map((sink, index) => resolveSink(sink, `decisionLog.sinks[${index}]`));
  const names = new Set<string>();
  resolved.forEach((sink, index) => {
    if (names.has(sink.name)) {
      throw new TelemetryOptionError('ERR_TELEMETRY_SINK', `decisionLog.sinks[${index}].name`, `${sink.name} is used by another sink; give each a name`);
    }
    names.add(sink.name);
  });
  return Object.freeze(resolved);
}

function resolveSink(sink: DecisionSinkOptions, at: string): ResolvedDecisionSinkOptions {
  if (sink.type !== 'http' && sink.type !== 'otlp') {
    throw new TelemetryOptionError('ERR_TELEMETRY_SINK', `${at}.type`, `must be http or otlp, got ${JSON.stringify(sink.type)}`);
  }
  const name = sink.name ?? sink.type;
  if (!SINK_NAME.test(name)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_SINK', `${at}.name`, `${JSON.stringify(name)} must be lower-case letters, digits, - or _`);
  }
  const batch = { ...SINK_DEFAULTS.batch, ...sink.batch };
  const retry = { ...SINK_DEFAULTS.retry, ...sink.retry };
  const url = resolveUrl(sink.url, `${at}.url`);
  const resolved: ResolvedDecisionSinkOptions = {
    type: sink.type,
    name,
    url,
    headers: Object.freeze(resolveHeaders(sink.headers ?? {}, `${at}.headers`)),
    timeoutMs: requireDelay(`${at}.timeout`, sink.timeoutMs ?? SINK_DEFAULTS.timeoutMs),
    batch: Object.freeze({
      maxLines: requireLimit(`${at}.batch.maxLines`, batch.maxLines, MAX_BATCH_LINES),
      maxBytes: requireLimit(`${at}.batch.maxBytes`, batch.maxBytes, MAX_BATCH_BYTES),
      maxDelayMs: requireDelay(`${at}.batch.maxDelay`, batch.maxDelayMs),
    }),
    bufferMaxLines: requireLimit(`${at}.buffer.maxLines`, sink.buffer?.maxLines ?? SINK_DEFAULTS.bufferMaxLines, MAX_BUFFER_LINES),
    retry: Object.freeze({
      minDelayMs: requireDelay(`${at}.retry.minDelay`, retry.minDelayMs),
      maxDelayMs: requireDelay(`${at}.retry.maxDelay`, retry.maxDelayMs),
    }),
    labels: Object.freeze({ ...sink.labels }),
    ...(sink.caFile === undefined ? {} : { ca: readCaFile({ option: `${at}.caFile`, path: sink.caFile, url, urlOption: `${at}.url` }) }),
  };
  if (resolved.batch.maxBytes < MIN_BATCH_BYTES) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', `${at}.batch.maxBytes`, `must be at least ${MIN_BATCH_BYTES}, got ${resolved.batch.maxBytes}`);
  }
  if (resolved.retry.minDelayMs > resolved.retry.maxDelayMs) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', `${at}.retry`, 'minDelay must not exceed maxDelay');
  }
  return Object.freeze(resolved);
}

function resolveUrl(url: string | undefined, at: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url ?? '');
  } catch {
    throw new TelemetryOptionError('ERR_TELEMETRY_SINK', at, `${JSON.stringify(url ?? '')} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TelemetryOptionError('ERR_TELEMETRY_SINK', at, `must be an http:// or https:// URL, got ${parsed.protocol}`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TelemetryOptionError('ERR_TELEMETRY_SINK', at, 'credentials belong in headers, not in the URL');
  }
  return parsed.href;
}

function resolveHeaders(headers: Readonly<Record<string, string>>, at: string): Record<string, string> {
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw new TelemetryOptionError('ERR_TELEMETRY_SINK', at, `${JSON.stringify(name)} is not a header name`);
    if (typeof value !== 'string' || /[\r\n]/.test(value)) {
      throw new TelemetryOptionError('ERR_TELEMETRY_SINK', `${at}.${name}`, 'must be a single-line string');
    }
  }
  return { ...headers };
}

function requireDelay(option: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DELAY_MS) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', option, `must be a duration from 0 to 24h, got ${ms} ms`);
  }
  return ms;
}
