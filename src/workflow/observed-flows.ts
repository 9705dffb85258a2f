/**
 * Decision records → observed flows `source → destination: METHOD path-template`, counted.
 * Only what a least-privilege ALLOW should cover is kept: requests that were allowed (in
 * an observe phase: `defaultAction: ALLOW`, or dry-run policies). Requests denied by default
 * are kept only on request: the log cannot tell "no policy yet" from "deliberately left out".
 * Everything else is counted by why it was left out, so `learn` can say so.
 */
import { tryParseSpiffeId } from '../domain/index.js';
import { pathProblem, checkMethod } from '../policy/index.js';
import { compareText } from './compare-text.js';
import type { DecisionRecord } from './decision-log-reader.js';
import { generalizePaths, type Generalization, type GeneralizeOptions } from './path-generalizer.js';

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
  /** Each path segment made `{*}`, and why. */
  readonly generalizations: readonly Generalization[];
}

export interface FlowOptions {
  /** Keep only callers of this trust domain. */
  readonly trustDomain?: string;
  /** Learn from `default_deny` decisions too (traffic no policy allowed yet). */
  readonly includeDefaultDenied?: boolean;
  /** How paths are generalized; default: by shape only (numbers, UUIDs, tokens, prefixed ids). */
  readonly generalize?: GeneralizeOptions;
}

const BY_SHAPE_ONLY: GeneralizeOptions = { minDistinct: 0, templates: [] };

/** A request that passed every filter but the path's: it is learned if its template can be written. */
interface Candidate {
  readonly destination: string;
  readonly source: string;
  readonly method: string;
  readonly path: string;
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
  const candidates: Candidate[] = [];
  for (const record of records) {
    const candidate = candidateOf(record, options);
    if (typeof candidate === 'string') excluded[candidate]++;
    else candidates.push(candidate);
  }
  const paths = generalizePaths(pathsByService(candidates), options.generalize ?? BY_SHAPE_ONLY);
  const counts = new Map<string, ObservedFlow>();
  let requests = 0;
  for (const candidate of candidates) {
    const template = paths.templateOf(candidate.destination, candidate.path);
    if (!expressible(template, candidate.method)) {
      excluded.inexpressible++;
      continue;
    }
    requests++;
    const flow = { destination: candidate.destination, source: candidate.source, method: candidate.method, template };
    const key = [flow.destination, flow.source, flow.method, flow.template].join('\u0000');
    counts.set(key, { ...flow, count: (counts.get(key)?.count ?? 0) + 1 });
  }
  return { flows: [...counts.values()].sort(compareFlows), requests, excluded, generalizations: paths.generalizations };
}

function candidateOf(record: DecisionRecord, options: FlowOptions): Candidate | ExclusionReason {
  const outcome = outcomeExclusion(record, options.includeDefaultDenied === true);
  if (outcome !== undefined) return outcome;
  if (record.destination === 'unknown') return 'unknown_destination';
  const id = record.sourcePrincipal === undefined ? undefined : tryParseSpiffeId(record.sourcePrincipal);
  if (id === undefined) return 'no_workload_identity';
  if (options.trustDomain !== undefined && id.trustDomain !== options.trustDomain) return 'other_trust_domain';
  return { destination: record.destination, source: id.uri, method: record.method, path: record.path };
}

function pathsByService(candidates: readonly Candidate[]): Map<string, Set<string>> {
  const paths = new Map<string, Set<string>>();
  for (const c of candidates) paths.set(c.destination, (paths.get(c.destination) ?? new Set()).add(c.path));
  return paths;
}

/** A literal `*` would read as a wildcard in a policy path: such a path cannot be written exactly. */
function expressible(template: string, method: string): boolean {
  if (template.includes('*') && !isTemplateOnly(template)) return false;
  return pathProblem(template) === undefined && checkMethod(method) === undefined;
}

function outcomeExclusion(record: DecisionRecord, includeDefaultDenied: boolean): ExclusionReason | undefined {
  if (record.decision === 'allow') return undefined;
  if (record.decision === 'deny' && record.reason === 'default_deny') return includeDefaultDenied ? undefined : 'denied_by_default';
  return record.decision === 'deny' && record.reason === 'policy_deny' ? 'denied_by_policy' : 'other_outcome';
}

/** True when every `*` of the template belongs to a `{*}` or `{**}` segment that learn wrote. */
function isTemplateOnly(template: string): boolean {
  return template.split('/').every((segment) => segment === '{*}' || segment === '{**}' || !segment.includes('*'));
}

export function compareFlows(a: ObservedFlow, b: ObservedFlow): number {
  return (
    compareText(a.destination, b.destination) ||
    compareText(a.source, b.source) ||
    compareText(a.template, b.template) ||
    compareText(a.method, b.method)
  );
}

