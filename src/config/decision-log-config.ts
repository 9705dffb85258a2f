/**
 * The `decisionLog:` section: its raw shape and the built one (durations in milliseconds).
 * The schema refuses unknown keys and wrong types first; telemetry validates the rest at
 * start-up (URLs, rule values, bounds) and names the offending key.
 */
import { durationMs } from './duration.js';

type Duration = number | string;

type OneOrMore = string | string[];

export interface RawDropRule {
  decision?: OneOrMore;
  reason?: OneOrMore;
  destination?: OneOrMore;
  source?: OneOrMore;
  method?: OneOrMore;
  path?: OneOrMore;
  pathPrefix?: OneOrMore;
  policy?: OneOrMore;
}

export interface RawDecisionSink {
  type: 'http' | 'otlp';
  name?: string;
  url: string;
  headers?: Record<string, string>;
  labels?: Record<string, string>;
  timeout?: Duration;
  batch?: { maxLines?: number; maxBytes?: number; maxDelay?: Duration };
  buffer?: { maxLines?: number };
  retry?: { minDelay?: Duration; maxDelay?: Duration };
  caFile?: string;
}

export interface RawDecisionLog {
  output?: string;
  allowSampleRate?: number;
  maxLinesPerSecond?: number;
  headers?: string[];
  format?: 'json' | 'ecs';
  sinks?: RawDecisionSink[];
  mask?: string[];
  drop?: RawDropRule[];
}

export interface DecisionSinkConfig {
  readonly type: 'http' | 'otlp';
  readonly name?: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly batch?: { readonly maxLines?: number; readonly maxBytes?: number; readonly maxDelayMs?: number };
  readonly buffer?: { readonly maxLines?: number };
  readonly retry?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
  /** Resolved from the config file's directory; telemetry reads and checks it at start-up. */
  readonly caFile?: string;
}

export interface DecisionLogConfig {
  /** `stdout`, `off`, or a file path. */
  readonly output: string;
  readonly allowSampleRate: number;
  readonly maxLinesPerSecond: number;
  readonly headers: readonly string[];
  /** Field names of stdout/file lines; `json` by default. */
  readonly format: 'json' | 'ecs';
  /** Off-box sinks; none by default. */
  readonly sinks: readonly DecisionSinkConfig[];
  /** Fields replaced with `[masked]` before any output; none by default. */
  readonly mask: readonly string[];
  /** Lines matching any rule are logged nowhere; none by default. */
  readonly drop: readonly Readonly<RawDropRule>[];
}

export function buildDecisionLog(raw: RawDecisionLog, path: (p: string) => string): DecisionLogConfig {
  const output = raw.output ?? 'stdout';
  return {
    output: output === 'stdout' || output === 'off' ? output : path(output),
    allowSampleRate: raw.allowSampleRate ?? 0.01,
    maxLinesPerSecond: raw.maxLinesPerSecond ?? 1000,
    headers: raw.headers ?? [],
    format: raw.format ?? 'json',
    sinks: (raw.sinks ?? []).map((sink) => buildSink(sink, path)),
    mask: raw.mask ?? [],
    drop: raw.drop ?? [],
  };
}

function buildSink({ timeout, batch, retry, caFile, ...rest }: RawDecisionSink, path: (p: string) => string): DecisionSinkConfig {
  const ms = (value: Duration | undefined) => (value === undefined ? undefined : durationMs(value));
  return withoutUndefined({
    ...rest,
    caFile: caFile === undefined ? undefined : path(caFile),
    timeoutMs: ms(timeout),
    batch: batch && withoutUndefined({ maxLines: batch.maxLines, maxBytes: batch.maxBytes, maxDelayMs: ms(batch.maxDelay) }),
    retry: retry && withoutUndefined({ minDelayMs: ms(retry.minDelay), maxDelayMs: ms(retry.maxDelay) }),
  });
}

/** Absent keys stay absent, so telemetry's defaults fill them (exactOptionalPropertyTypes). */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
