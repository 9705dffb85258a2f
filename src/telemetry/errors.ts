/**
 * Misused telemetry options fail at start-up with a TypeError that carries a code, so the
 * config layer can name the offending key; nothing in telemetry throws while serving.
 */

export type TelemetryOptionCode =
  | 'ERR_TELEMETRY_LIMIT'
  | 'ERR_TELEMETRY_SAMPLE_RATE'
  | 'ERR_TELEMETRY_HEADER_REFUSED'
  | 'ERR_TELEMETRY_OUTPUT'
  | 'ERR_TELEMETRY_SINK'
  | 'ERR_TELEMETRY_CA'
  | 'ERR_TELEMETRY_RULE';

export class TelemetryOptionError extends TypeError {
  readonly code: TelemetryOptionCode;
  /** The option at fault, e.g. `decisionLog.headers`. */
  readonly option: string;

  constructor(code: TelemetryOptionCode, option: string, message: string) {
    super(`${option}: ${message}`);
    this.name = 'TelemetryOptionError';
    this.code = code;
    this.option = option;
  }
}

/** A positive integer no larger than `max`: every cap must be finite so memory stays bounded. */
export function requireLimit(option: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new TelemetryOptionError('ERR_TELEMETRY_LIMIT', option, `must be an integer in 1..${max}, got ${value}`);
  }
  return value;
}
