/**
 * One decision log line as plain JSON. Built from an explicit list of fields: headers,
 * claims, the query string and raw path are never copied wholesale, which is what keeps
 * credentials out of the log; scrubbing token-shaped text is only a second line of defence.
 */
import type { AccessRequest, Authorization, Decision } from '../domain/index.js';

export interface DecisionLine {
  readonly decision_id: string;
  readonly request_id?: string;
  readonly decision: Decision['verdict'];
  readonly reason: Decision['reason'];
  readonly policy?: string;
  readonly rule?: number;
  readonly dry_run?: 'would_allow' | 'would_deny';
  readonly dry_run_policy?: string;
  readonly audit?: string;
  readonly source_principal?: string;
  readonly request_principal?: string;
  readonly destination?: string;
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly latency_us: number;
  readonly generation: number;
  readonly detail?: string;
  /** W3C ids of the Check's trace, when it had one: a log search and a trace view meet on them. */
  readonly trace_id?: string;
  readonly span_id?: string;
}

const MAX_SHORT = 256;
const MAX_PATH = 2048;
const MAX_DETAIL = 512;

// Compact JWS/JWT (its header always base64url-encodes `{"`) and HTTP auth schemes.
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Digest|Negotiate)\s+\S+/gi;

export function decisionLine(
  result: Authorization,
  request: AccessRequest | undefined,
  durationSeconds: number,
  headerNames: readonly string[],
): DecisionLine {
  const { decision, subject } = result;
  return {
    decision_id: decision.id,
    request_id: clipped(request?.requestId ?? result.requestId, MAX_SHORT),
    decision: decision.verdict,
    reason: decision.reason,
    policy: decision.by?.policy,
    rule: decision.by?.rule,
    dry_run: decision.dryRun === undefined ? undefined : decision.dryRun.verdict === 'allow' ? 'would_allow' : 'would_deny',
    dry_run_policy: decision.dryRun?.by?.policy,
    audit: decision.audit?.policy,
    source_principal: clipped(subject?.workload?.uri ?? request?.source.principal, MAX_SHORT),
    request_principal: clipped(subject?.user?.principal, MAX_SHORT),
    destination: clipped(result.destination, MAX_SHORT),
    method: clipped(request?.method, MAX_SHORT),
    path: scrubbed(request?.path, MAX_PATH),
    host: clipped(request?.host, MAX_SHORT),
    headers: request === undefined ? undefined : pickHeaders(request.headers, headerNames),
    latency_us: Math.round(durationSeconds * 1e6),
    generation: decision.generation,
    detail: scrubbed(decision.detail, MAX_DETAIL),
    trace_id: result.trace?.traceId,
    span_id: result.trace?.spanId,
  };
}

/** Replaces token-shaped substrings, for free text that might echo a credential. */
export function scrubSecrets(text: string): string {
  return text.replace(JWT_SHAPED, '[redacted]').replace(AUTH_SCHEME, '$1 [redacted]');
}

function pickHeaders(headers: ReadonlyMap<string, string>, names: readonly string[]): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const picked: [string, string][] = [];
  for (const name of names) {
    const value = headers.get(name);
    if (value !== undefined) picked.push([name, scrubbed(value, MAX_SHORT) ?? '']);
  }
  return picked.length === 0 ? undefined : Object.fromEntries(picked);
}

function clipped(text: string | undefined, max: number): string | undefined {
  if (text === undefined || text === '') return undefined;
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function scrubbed(text: string | undefined, max: number): string | undefined {
  return clipped(text === undefined ? undefined : scrubSecrets(text), max);
}
