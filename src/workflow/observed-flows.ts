/**
 * Decision records → observed flows `source → destination: METHOD path-template`, counted.
 * Only what a least-privilege ALLOW should cover is kept: requests that were allowed (in
 * an observe phase: `defaultAction: ALLOW`, or dry-run policies). Requests denied by default
 * are kept only on request: the log cannot tell "no policy yet" from "deliberately left out".
 * Everything else is counted by why it was left out, so `learn` can say so.
 */
import { tryParseSpiffeId } from '../domain/index.js';
import { pathProblem, checkMethod } from '../policy/index.js';
import { templatePath } from '../telemetry/index.js';
import type { DecisionRecord } from './decision-log-reader.js';

export interface ObservedFlow {
  readonly destination: string;
  /** SPIFFE ID of the caller. */
  readonly source: string;
  readonly method: string;
  readonly template: string;
  readonly count: number;
}

export type ExclusionReason =
  | 'denied_by_default'
  | 'denied_by_policy'
  | 'other_outcome'
  | 'no_workload_identity'
  | 'other_trust_domain'
  | 'unknown_destination'
  | 'inexpressible';

export interface FlowCollection {
  readonly flows: readonly ObservedFlow[];
  /** Requests that went into flows. */
  readonly requests: number;
  readonly excluded: Readonly<Record<ExclusionReason, number>>;
}

export interface FlowOptions {
  /** Keep only callers of this trust domain. */
  readonly trustDomain?: string;
  /** Learn from `default_deny` decisions too (traffic no policy allowed yet). */
  readonly includeDefaultDenied?: boolean;
}

export function collectFlows(records: readonly DecisionRecord[], options: FlowOptions = {}): FlowCollection {
  const excluded: Record<ExclusionReason, number> = {
    denied_by_default: 0,
    denied_by_policy: 0,
    other_outcome: 0,
    no_workload_identity: 0,
    other_trust_domain: 0,
    unknown_destination: 0,
    inexpressible: 0,
  };
  const counts = new Map<string, ObservedFlow>();
  let requests = 0;
  for (const record of records) {
    const flow = flowOf(record, options);
    if (typeof flow === 'string') {
      excluded[flow]++;
      continue;
    }
    requests++;
    const key = [flow.destination, flow.source, flow.method, flow.template].join('\u0000');
    const known = counts.get(key);
    counts.set(key, { ...flow, count: (known?.count ?? 0) + 1 });
  }
  return { flows: [...counts.values()].sort(compareFlows), requests, excluded };
}

function flowOf(record: DecisionRecord, options: FlowOptions): Omit<ObservedFlow, 'count'> | ExclusionReason {
  const outcome = outcomeExclusion(record, options.includeDefaultDenied === true);
  if (outcome !== undefined) return outcome;
  if (record.destination === 'unknown') return 'unknown_destination';
  const id = record.sourcePrincipal === undefined ? undefined : tryParseSpiffeId(record.sourcePrincipal);
  if (id === undefined) return 'no_workload_identity';
  if (options.trustDomain !== undefined && id.trustDomain !== options.trustDomain) return 'other_trust_domain';
  const template = templatePath(record.path);
  // A literal `*` would read as a wildcard in a policy path: such a path cannot be written exactly.
  if (template.includes('*') && !isTemplateOnly(template)) return 'inexpressible';
  if (pathProblem(template) !== undefined || checkMethod(record.method) !== undefined) return 'inexpressible';
  return { destination: record.destination, source: id.uri, method: record.method, template };
}

function outcomeExclusion(record: DecisionRecord, includeDefaultDenied: boolean): ExclusionReason | undefined {
  if (record.decision === 'allow') return undefined;
  if (record.decision === 'deny' && record.reason === 'default_deny') return includeDefaultDenied ? undefined : 'denied_by_default';
  return record.decision === 'deny' && record.reason === 'policy_deny' ? 'denied_by_policy' : 'other_outcome';
}

/** True when every `*` of the template belongs to a `{*}` segment that templatePath wrote. */
function isTemplateOnly(template: string): boolean {
  return template.split('/').every((segment) => segment === '{*}' || !segment.includes('*'));
}

export function compareFlows(a: ObservedFlow, b: ObservedFlow): number {
  return (
    compareText(a.destination, b.destination) ||
    compareText(a.source, b.source) ||
    compareText(a.template, b.template) ||
    compareText(a.method, b.method)
  );
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
