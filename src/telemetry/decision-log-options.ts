/**
 * Options of the decision log, validated once at start-up into a frozen value. Headers that
 * carry credentials are refused here, so no configuration can ever make them reach a log.
 */
import { TelemetryOptionError } from './errors.js';

export interface DecisionLogOptions {
  /** `stdout` (default), `stderr`, or a file path. */
  readonly output?: string;
  /** Fraction of plain allows to log, 0..1. Everything else is always logged. Default 0.01. */
  readonly allowSampleRate?: number;
  /** Volume limit; lines beyond it are dropped and counted. Default 5000. */
  readonly maxLinesPerSecond?: number;
  /** Request headers to copy into each line, by (case-insensitive) name. Default none. */
  readonly headers?: readonly string[];
}

export type DecisionLogOutput = { readonly kind: 'fd'; readonly fd: 1 | 2 } | { readonly kind: 'file'; readonly path: string };

export interface ResolvedDecisionLogOptions {
  readonly output: DecisionLogOutput;
  readonly allowSampleRate: number;
  readonly maxLinesPerSecond: number;
  readonly headers: readonly string[];
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

export function resolveDecisionLogOptions(options: DecisionLogOptions): ResolvedDecisionLogOptions {
  return Object.freeze({
    output: resolveOutput(options.output ?? 'stdout'),
    allowSampleRate: resolveSampleRate(options.allowSampleRate ?? 0.01),
    maxLinesPerSecond: resolveRate(options.maxLinesPerSecond ?? 5000),
    headers: Object.freeze(resolveHeaders(options.headers ?? [])),
  });
}

function resolveOutput(output: string): DecisionLogOutput {
  if (output === 'stdout') return { kind: 'fd', fd: 1 };
  if (output === 'stderr') return { kind: 'fd', fd: 2 };
  if (output.trim() === '') throw new TelemetryOptionError('ERR_TELEMETRY_OUTPUT', 'decisionLog.output', 'must be stdout, stderr or a file path');
  return { kind: 'file', path: output };
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

function resolveHeaders(headers: readonly string[]): string[] {
  if (headers.length > MAX_HEADERS) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', 'decisionLog.headers', `at most ${MAX_HEADERS} headers`);
  }
  return [...new Set(headers.map(resolveHeader))];
}

function resolveHeader(header: string): string {
  const name = header.trim().toLowerCase();
  if (!HEADER_NAME.test(name)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_HEADER_REFUSED', 'decisionLog.headers', `${JSON.stringify(header)} is not a header name`);
  }
  if (REFUSED_HEADERS.has(name) || SECRET_HEADER_NAME.test(name)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_HEADER_REFUSED', 'decisionLog.headers', `${name} may carry credentials and is never logged`);
  }
  return name;
}
