/**
 * Reads a decision log (JSON lines, as the server writes them) into typed records. A log
 * may share stdout with other output, so lines that are not JSON, or not decisions, are
 * skipped and counted rather than fatal.
 */
import { readText } from './located-yaml.js';

/** The fields of a decision line the workflow tools use (see telemetry/decision-line.ts). */
export interface DecisionRecord {
  /** 1-based line number in the log. */
  readonly line: number;
  readonly decision: string;
  readonly reason: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  readonly sourcePrincipal?: string;
  readonly requestPrincipal?: string;
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly dryRun?: 'would_allow' | 'would_deny';
  readonly generation?: number;
  /** ISO time of the decision, when the log line has one. */
  readonly time?: string;
}

export interface DecisionLog {
  readonly file: string;
  readonly records: readonly DecisionRecord[];
  /** Non-empty lines read. */
  readonly lines: number;
  readonly skipped: { readonly notJson: number; readonly notDecision: number };
}

export async function readDecisionLog(file: string): Promise<DecisionLog> {
  return parseDecisionLog(await readText(file), file);
}

export function parseDecisionLog(text: string, file: string): DecisionLog {
  const records: DecisionRecord[] = [];
  let lines = 0;
  let notJson = 0;
  let notDecision = 0;
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    lines++;
    const parsed = parseJson(raw);
    if (parsed === undefined) {
      notJson++;
      return;
    }
    const record = toRecord(parsed, index + 1);
    if (record === undefined) notDecision++;
    else records.push(record);
  });
  return { file, records, lines, skipped: { notJson, notDecision } };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A line is a decision when it has a verdict, a destination, a method and a path. */
function toRecord(json: Record<string, unknown>, line: number): DecisionRecord | undefined {
  if (json['log'] !== undefined && json['log'] !== 'decision') return undefined;
  const decision = text(json['decision']);
  const destination = text(json['destination']);
  const method = text(json['method']);
  const path = text(json['path']);
  if (decision === undefined || destination === undefined || method === undefined || path === undefined) return undefined;
  const dryRun = dryRunOf(json['dry_run']);
  const generation = typeof json['generation'] === 'number' ? json['generation'] : undefined;
  return withoutUndefined({
    line,
    decision,
    reason: text(json['reason']) ?? '',
    destination,
    method,
    path,
    sourcePrincipal: text(json['source_principal']),
    requestPrincipal: text(json['request_principal']),
    host: text(json['host']),
    headers: stringMap(json['headers']),
    dryRun,
    generation,
    time: text(json['time']),
  });
}

function dryRunOf(value: unknown): DecisionRecord['dryRun'] {
  return value === 'would_allow' || value === 'would_deny' ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
