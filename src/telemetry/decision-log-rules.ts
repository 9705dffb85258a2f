/**
 * Operator rules applied to every decision line before any output (stdout, file, or a sink):
 * drop rules skip lines that match, mask rules replace a field's value with `[masked]`
 * (the field stays, so a reader sees that it was there) and list it in the line's `masked`.
 * Both are validated at start-up with an error naming the rule and the field.
 */
import type { DecisionLine } from './decision-line.js';
import { TelemetryOptionError } from './errors.js';

export const MASKED = '[masked]';

/** One drop rule: every condition given must hold; a value list matches any of its values. */
export interface DropRule {
  readonly decision?: string | readonly string[];
  readonly reason?: string | readonly string[];
  readonly destination?: string | readonly string[];
  readonly source?: string | readonly string[];
  readonly method?: string | readonly string[];
  readonly path?: string | readonly string[];
  readonly pathPrefix?: string | readonly string[];
  readonly policy?: string | readonly string[];
}

type Condition = keyof DropRule;
const CONDITIONS: readonly Condition[] = ['decision', 'reason', 'destination', 'source', 'method', 'path', 'pathPrefix', 'policy'];
const VERDICTS = ['allow', 'deny', 'unauthenticated', 'invalid_request'];

/** The line fields a mask may name (`request.headers.<name>` is read as `headers.<name>`). */
export const MASKABLE_FIELDS = ['request_id', 'source_principal', 'request_principal', 'destination', 'method', 'path', 'host', 'detail'] as const;
const HEADER_PREFIXES = ['headers.', 'request.headers.'];

export type LinePredicate = (line: DecisionLine) => boolean;
export type LineMask = (line: DecisionLine) => DecisionLine;

/** A predicate true for lines that any rule drops; undefined when there are no rules. */
export function compileDropRules(rules: readonly DropRule[]): LinePredicate | undefined {
  if (rules.length === 0) return undefined;
  const compiled = rules.map((rule, index) => compileDropRule(rule, `decisionLog.drop[${index}]`));
  return (line) => compiled.some((matches) => matches(line));
}

function compileDropRule(rule: DropRule, at: string): LinePredicate {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_RULE', at, 'must be an object of conditions, e.g. { decision: allow, pathPrefix: /healthz }');
  }
  const keys = Object.keys(rule);
  if (keys.length === 0) throw new TelemetryOptionError('ERR_TELEMETRY_RULE', at, 'has no condition and would drop every line');
  const tests = keys.map((key) => compileCondition(key, (rule as Record<string, unknown>)[key], `${at}.${key}`));
  return (line) => tests.every((test) => test(line));
}

function compileCondition(key: string, raw: unknown, at: string): LinePredicate {
  if (!(CONDITIONS as readonly string[]).includes(key)) {
    throw new TelemetryOptionError('ERR_TELEMETRY_RULE', at, `unknown condition; use ${CONDITIONS.join(', ')}`);
  }
  const values = valueList(raw, at);
  switch (key as Condition) {
    case 'decision':
      values.forEach((value) => {
        if (!VERDICTS.includes(value)) throw new TelemetryOptionError('ERR_TELEMETRY_RULE', at, `${JSON.stringify(value)} is not one of ${VERDICTS.join(', ')}`);
      });
      return anyOf(values, (line) => line.decision);
    case 'pathPrefix':
      values.forEach((value) => {
        if (!value.startsWith('/')) throw new TelemetryOptionError('ERR_TELEMETRY_RULE', at, `${JSON.stringify(value)} must start with /`);
      });
      return (line) => line.path !== undefined && values.some((prefix) => line.path!.startsWith(prefix));
    case 'method': {
      const upper = values.map((value) => value.toUpperCase());
      return anyOf(upper, (line) => line.method?.toUpperCase());
    }
    case 'source':
      return anyOf(values, (line) => line.source_principal);
    default: {
      const field = key as 'reason' | 'destination' | 'path' | 'policy';
      return anyOf(values, (line) => line[field]);
    }
  }
}

function valueList(raw: unknown, at: string): string[] {
  const values = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (values.length === 0 || !values.every((value) => typeof value === 'string' && value !== '')) {
    throw new TelemetryOptionError('ERR_TELEMETRY_RULE', at, 'must be a non-empty string or a non-empty list of them');
  }
  return values as string[];
}

function anyOf(values: readonly string[], read: (line: DecisionLine) => string | undefined): LinePredicate {
  const set = new Set(values);
  return (line) => {
    const value = read(line);
    return value !== undefined && set.has(value);
  };
}

export interface ResolvedMask {
  readonly fields: readonly (typeof MASKABLE_FIELDS)[number][];
  /** Lower-case header names. */
  readonly headers: readonly string[];
}

export function resolveMask(entries: readonly string[]): ResolvedMask {
  const fields = new Set<(typeof MASKABLE_FIELDS)[number]>();
  const headers = new Set<string>();
  entries.forEach((entry, index) => {
    const prefix = HEADER_PREFIXES.find((p) => entry.toLowerCase().startsWith(p));
    if (prefix !== undefined && entry.length > prefix.length) {
      headers.add(entry.slice(prefix.length).toLowerCase());
    } else if ((MASKABLE_FIELDS as readonly string[]).includes(entry)) {
      fields.add(entry as (typeof MASKABLE_FIELDS)[number]);
    } else {
      throw new TelemetryOptionError(
        'ERR_TELEMETRY_RULE',
        `decisionLog.mask[${index}]`,
        `${JSON.stringify(entry)} is not a maskable field; use request.headers.<name> or one of ${MASKABLE_FIELDS.join(', ')}`,
      );
    }
  });
  return Object.freeze({ fields: Object.freeze([...fields]), headers: Object.freeze([...headers]) });
}

/** A function that masks a line's fields; undefined when nothing is masked. */
export function compileMask(mask: ResolvedMask): LineMask | undefined {
  if (mask.fields.length === 0 && mask.headers.length === 0) return undefined;
  return (line) => {
    const masked: string[] = [];
    const copy: Record<string, unknown> = { ...line };
    for (const field of mask.fields) {
      if (copy[field] === undefined) continue;
      copy[field] = MASKED;
      masked.push(field);
    }
    const headers = maskHeaders(line.headers, mask.headers, masked);
    if (headers !== line.headers) copy['headers'] = headers;
    if (masked.length === 0) return line;
    copy['masked'] = masked;
    return copy as unknown as DecisionLine;
  };
}

function maskHeaders(headers: DecisionLine['headers'], names: readonly string[], masked: string[]): DecisionLine['headers'] {
  if (headers === undefined || !names.some((name) => headers[name] !== undefined)) return headers;
  const copy = { ...headers };
  for (const name of names) {
    if (copy[name] === undefined) continue;
    copy[name] = MASKED;
    masked.push(`headers.${name}`);
  }
  return copy;
}
