/**
 * A decision line under Elastic Common Schema field names (`decisionLog.format: ecs`), for a
 * SIEM that indexes ECS: an ECS `network` event, `allowed` or `denied`. Every field outside
 * the `meshwarden.*` namespace is an ECS 8.11 field of the ECS type (checked against the
 * published field definitions in test/telemetry/decision-log-ecs.test.ts); what ECS has no
 * field for stays under `meshwarden.*`, as ECS asks of custom fields.
 */
import type { DecisionLine } from './decision-line.js';

export const ECS_VERSION = '8.11.0';
/** ECS `log.logger` and `event.dataset` of every decision line. */
export const ECS_DATASET = 'meshwarden.decision';

type MaskedLine = DecisionLine & { readonly masked?: readonly string[] };

export function ecsDocument(line: MaskedLine): Record<string, unknown> {
  const allowed = line.decision === 'allow';
  return compact({
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'event',
      category: ['network'],
      type: [allowed ? 'allowed' : 'denied'],
      action: 'authorization-check',
      // the access asked for was granted (success) or refused (failure)
      outcome: allowed ? 'success' : 'failure',
      id: line.decision_id,
      reason: line.reason,
      duration: line.latency_us * 1000,
      dataset: ECS_DATASET,
    },
    rule: { name: line.policy, id: line.rule === undefined ? undefined : String(line.rule) },
    http: { request: { id: line.request_id, method: line.method } },
    url: { path: line.path, domain: line.host },
    source: { user: { id: line.source_principal } },
    user: { id: line.request_principal },
    service: { name: 'meshwarden', target: { name: line.destination } },
    trace: { id: line.trace_id },
    span: { id: line.span_id },
    meshwarden: {
      decision: line.decision,
      dry_run: line.dry_run,
      dry_run_policy: line.dry_run_policy,
      audit: line.audit,
      generation: line.generation,
      detail: line.detail,
      headers: line.headers,
      masked: line.masked,
    },
  });
}

/** Drops undefined values and the objects they leave empty, so absent means absent. */
function compact(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    if (isPlainObject(field)) {
      const inner = compact(field);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else {
      out[key] = field;
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
