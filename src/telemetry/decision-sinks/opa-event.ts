/**
 * A decision line as one event of OPA's decision-log upload, so a pipeline built for OPA
 * (OPA-Envoy in particular) takes meshwarden's lines as they are: `decision_id`, `timestamp`,
 * `labels`, `path`, `input`, `result`, `metrics`, `masked`, `trace_id`/`span_id`. `input`
 * follows OPA-Envoy's `input.attributes` layout; `result.allowed` is its boolean answer.
 */
import type { DecisionLine } from '../decision-line.js';

/** The policy path an OPA pipeline groups events by; ours names the one query we answer. */
export const OPA_EVENT_PATH = 'meshwarden/authz/check';

export interface OpaLabels {
  readonly app: string;
  readonly id: string;
  readonly version: string;
  readonly [label: string]: string;
}

/** Where each maskable line field sits in the event, as the JSON pointer OPA's `masked` lists. */
const POINTERS: Readonly<Record<string, string>> = {
  request_id: '/input/attributes/request/http/id',
  method: '/input/attributes/request/http/method',
  host: '/input/attributes/request/http/host',
  path: '/input/attributes/request/http/path',
  source_principal: '/input/attributes/source/principal',
  destination: '/input/attributes/destination/service',
  request_principal: '/input/request_principal',
  detail: '/result/detail',
};

/** A line after the mask rules, which list what they masked. */
type MaskedLine = DecisionLine & { readonly masked?: readonly string[] };

export function opaEvent(line: DecisionLine, timeMs: number, labels: OpaLabels): Record<string, unknown> {
  return {
    labels,
    decision_id: line.decision_id,
    timestamp: new Date(timeMs).toISOString(),
    path: OPA_EVENT_PATH,
    input: {
      attributes: {
        source: { principal: line.source_principal },
        destination: { service: line.destination },
        request: { http: { id: line.request_id, method: line.method, host: line.host, path: line.path, headers: line.headers } },
      },
      request_principal: line.request_principal,
    },
    result: {
      allowed: line.decision === 'allow',
      decision: line.decision,
      reason: line.reason,
      policy: line.policy,
      rule: line.rule,
      dry_run: line.dry_run,
      dry_run_policy: line.dry_run_policy,
      audit: line.audit,
      generation: line.generation,
      detail: line.detail,
    },
    metrics: { timer_meshwarden_check_ns: line.latency_us * 1000 },
    masked: (line as MaskedLine).masked?.map(pointerOf),
    trace_id: line.trace_id,
    span_id: line.span_id,
  };
}

function pointerOf(field: string): string {
  if (field.startsWith('headers.')) return `/input/attributes/request/http/headers/${field.slice('headers.'.length)}`;
  return POINTERS[field] ?? `/${field}`;
}
