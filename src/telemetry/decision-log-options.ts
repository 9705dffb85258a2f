/**
 * Options of the decision log, validated once at start-up into a frozen value. Headers that
 * carry credentials are refused here, so no configuration can ever make them reach a log.
 */
import { compileDropRules, compileMask, resolveMask, type DropRule, type LineMask, type LinePredicate, type ResolvedMask } from './decision-log-rules.js';
import { resolveSinkOptions, type DecisionSinkOptions, type ResolvedDecisionSinkOptions } from './decision-sinks/index.js';
import { TelemetryOptionError } from './errors.js';

export interface DecisionLogOptions {
  /** `stdout` (default), `stderr`, a file path, or `off` (only the sinks, if any). */
  readonly output?: string;
  /** Fraction of plain allows to log, 0..1. Everything else is always logged. Default 0.01. */
  readonly allowSampleRate?: number;
  /** Volume limit; lines beyond it are dropped and counted. Default 5000. */
  readonly maxLinesPerSecond?: number;
  /** Request headers to copy into each line, by (case-insensitive) name. Default none. */
  readonly headers?: readonly string[];
  /** Off-box sinks (OPA's HTTP decision-log upload, OTLP logs). Default none. */
  readonly sinks?: readonly DecisionSinkOptions[];
  /** Fields whose value is replaced with `[masked]` before any output, e.g. `request.headers.x-api-key`. */
  readonly mask?: readonly string[];
  /** Lines matching any of these rules are not logged anywhere. */
  readonly drop?: readonly DropRule[];
  /** Field names of stdout/file lines: `json` (ours, the default) or `ecs` (Elastic Common Schema). */
  readonly format?: DecisionLogFormat;
  /** How long `close` waits for the sinks to ship what they hold. Default 5 s. */
  readonly closeTimeoutMs?: number;
}

export type DecisionLogFormat = 'json' | 'ecs';

export type DecisionLogOutput =
  | { readonly kind: 'fd'; readonly fd: 1 | 2 }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'off' };

export interface ResolvedDecisionLogOptions {
  readonly output: DecisionLogOutput;
  readonly allowSampleRate: number;
  readonly maxLinesPerSecond: number;
  readonly headers: readonly string[];
  readonly sinks: readonly ResolvedDecisionSinkOptions[];
  readonly closeTimeoutMs: number;
  readonly format: DecisionLogFormat;
  readonly mask: ResolvedMask;
  /** True for a line a drop rule skips; absent without rules. */
  readonly dropLine?: LinePredicate;
  /** Masks a line's fields; absent without mask rules. */
  readonly maskLine?: LineMask;
}

/** Never loggable, whatever the operator asks: they carry credentials or session state. */
export const REFUSED_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-forwarded-client-cert',
]);
/** Header names that by convention carry secrets (`x-api-key`, `x-auth-token`, …). */
const SECRET_HEADER_NAME = /token|secret|password|api-?key|session/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const MAX_HEADERS = 16;
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

export function resolveDecisionLogOptions(options: DecisionLogOptions): ResolvedDecisionLogOptions {
  const mask = resolveMask(options.mask ?? []);
  const dropLine = compileDropRules(options.drop ?? []);
  const maskLine = compileMask(mask);
  return Object.freeze({
    output: resolveOutput(options.output ?? 'stdout'),
    allowSampleRate: resolveSampleRate(options.allowSampleRate ?? 0.01),
    maxLinesPerSecond: resolveRate(options.maxLinesPerSecond ?? 5000),
    headers: Object.freeze(resolveHeaders(options.headers ?? [], new Set(mask.headers))),
    sinks: resolveSinkOptions(options.sinks ?? []),
    closeTimeoutMs: resolveCloseTimeout(options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS),
    format: resolveFormat(options.format ?? 'json'),
    mask,
    ...(dropLine ? { dropLine } : {}),
    ...(maskLine ? { maskLine } : {}),
  });
}

function resolveOutput(output: string): DecisionLogOutput {
  if (output === 'stdout') return { kind: 'fd', fd: 1 };
  if (output === 'stderr') return { kind: 'fd', fd: 2 };
  if (output === 'off') return { kind: 'off' };
  if (output.trim() === '') throw new TelemetryOptionError('ERR_TELEMETRY_OUTPUT', 'decisionLog.output', 'must be stdout, stderr or a file path');
  return { kind: 'file', path: output };
}

function resolveFormat(format: string): DecisionLogFormat {
  if (format !== 'json' && format !== 'ecs') {
    throw new TelemetryOptionError('ERR_TELEMETRY_OUTPUT', 'decisionLog.format', `must be json or ecs, got ${JSON.stringify(format)}`);
  }
  return format;
}

function resolveCloseTimeout(ms: number): number {
  if (!(ms >= 0 && Number.isFinite(ms))) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', 'shutdown.drainTimeout', `must be a finite duration, got ${ms} ms`);
  }
  return ms;
}

function resolveSampleRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_SAMPLE_RATE', 'decisionLog.allowSampleRate', `must be between 0 and 1, got ${rate}`);
  }
  return rate;
}

function resolveRate(rate: number): number {
  if (!(rate > 0)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', 'decisionLog.maxLinesPerSecond', `must be a positive number or Infinity, got ${rate}`);
  }
  return rate;
}

/** A header whose name suggests a secret may be listed only when it is also masked: its presence is logged, never its value. */
function resolveHeaders(headers: readonly string[], masked: ReadonlySet<string>): string[] {
  if (headers.length > MAX_HEADERS) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', 'decisionLog.headers', `at most ${MAX_HEADERS} headers`);
  }
  return [...new Set(headers.map((header) => resolveHeader(header, masked)))];
}

function resolveHeader(header: string, masked: ReadonlySet<string>): string {
  const name = header.trim().toLowerCase();
  if (!HEADER_NAME.test(name)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_HEADER_REFUSED', 'decisionLog.headers', `${JSON.stringify(header)} is not a header name`);
  }
  if (REFUSED_HEADERS.has(name)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_HEADER_REFUSED', 'decisionLog.headers', `${name} may carry credentials and is never logged`);
  }
  if (SECRET_HEADER_NAME.test(name) && !masked.has(name)) {
    throw new TelemetryOptionError(
      'ERR_TELEMETRY_HEADER_REFUSED',
      'decisionLog.headers',
      `${name} may carry credentials: it is logged only if decisionLog.mask also lists request.headers.${name}`,
    );
  }
  return name;
}
