/**
 * Observed flows → least-privilege ALLOW policies: one per destination service, one rule
 * per calling workload (exact principal), and for each rule only the method × path pairs
 * seen — paths that share the same methods share an operation, so GET /a and POST /b never
 * become GET|POST on /a|/b. Paths are the observed templates: ids generalized to `{*}`,
 * literal routes kept beside them, nothing wider.
 */
import type { PolicyMode } from '../policy/index.js';
import { compareText } from './compare-text.js';
import type { ObservedFlow } from './observed-flows.js';

export interface LearnedOperation {
  readonly methods: readonly string[];
  readonly paths: readonly string[];
}

export interface LearnedRule {
  readonly principal: string;
  readonly requests: number;
  readonly operations: readonly LearnedOperation[];
}

export interface LearnedPolicy {
  readonly name: string;
  readonly service: string;
  readonly mode: PolicyMode;
  readonly requests: number;
  readonly rules: readonly LearnedRule[];
}

export interface MinCountResult {
  readonly kept: readonly ObservedFlow[];
  readonly droppedFlows: number;
  readonly droppedRequests: number;
}

/** Flows seen fewer than `minCount` times are left out: rare calls deserve a human look. */
export function applyMinCount(flows: readonly ObservedFlow[], minCount: number): MinCountResult {
  const kept = flows.filter((f) => f.count >= minCount);
  const dropped = flows.filter((f) => f.count < minCount);
  return { kept, droppedFlows: dropped.length, droppedRequests: dropped.reduce((n, f) => n + f.count, 0) };
}

export function learnPolicies(flows: readonly ObservedFlow[], mode: PolicyMode): LearnedPolicy[] {
  const names = new Set<string>();
  return [...groupBy(flows, (f) => f.destination)]
    .sort(([a], [b]) => compareText(a, b))
    .map(([service, serviceFlows]) => ({
      name: uniqueName(policyName(service), names),
      service,
      mode,
      requests: total(serviceFlows),
      rules: [...groupBy(serviceFlows, (f) => f.source)].sort(([a], [b]) => compareText(a, b)).map(([principal, own]) => learnRule(principal, own)),
    }));
}

function learnRule(principal: string, flows: readonly ObservedFlow[]): LearnedRule {
  const methodsByPath = new Map<string, Set<string>>();
  for (const flow of flows) {
    const methods = methodsByPath.get(flow.template) ?? new Set<string>();
    methods.add(flow.method);
    methodsByPath.set(flow.template, methods);
  }
  const pathsByMethods = new Map<string, { methods: string[]; paths: string[] }>();
  for (const [path, methods] of methodsByPath) {
    const sorted = [...methods].sort(compareText);
    const key = sorted.join(',');
    const operation = pathsByMethods.get(key) ?? { methods: sorted, paths: [] };
    operation.paths.push(path);
    pathsByMethods.set(key, operation);
  }
  const operations = [...pathsByMethods.values()]
    .map((op) => ({ methods: op.methods, paths: op.paths.sort(compareText) }))
    .sort((a, b) => compareText(a.methods.join(','), b.methods.join(',')));
  return { principal, requests: total(flows), operations };
}

/** `learned-` + the service as a Kubernetes name (lower case, `[-a-z0-9.]`, at most 253). */
export function policyName(service: string): string {
  const slug = service
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `learned-${slug === '' ? 'service' : slug}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}

/** Services that differ only in spelling (`Payments`, `payments`) still get distinct policy ids. */
function uniqueName(name: string, used: Set<string>): string {
  let unique = name;
  for (let n = 2; used.has(unique); n++) unique = `${name}-${n}`;
  used.add(unique);
  return unique;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k) ?? [];
    list.push(item);
    groups.set(k, list);
  }
  return groups;
}

function total(flows: readonly ObservedFlow[]): number {
  return flows.reduce((n, f) => n + f.count, 0);
}
