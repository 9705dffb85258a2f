/**
 * Bounded in-memory graph of observed flows, `source workload → destination service`, with
 * the methods and path templates used on each edge. It feeds `/flows`, `meshwarden graph` and
 * `learn`. Every dimension is capped because sources, hosts, methods and paths come from traffic.
 */
import type { Verdict } from '../domain/index.js';
import { requireLimit } from './errors.js';
import { dryRunDenyKey, enforcedKey, type FlowDecider } from './flow-deciders.js';
import { templatePath } from './path-template.js';

export interface FlowObservation {
  /** Workload identity of the caller (a SPIFFE ID), or a placeholder such as `unknown`. */
  readonly source: string;
  /** Destination service, as the decision resolved it. */
  readonly destination: string;
  /** `TCP` for a connection. */
  readonly method: string;
  /** Canonical path; templated here, so ids never become distinct entries. Absent for a connection. */
  readonly path?: string | undefined;
  readonly verdict: Verdict;
  /** True when dry-run policies would have denied this request. */
  readonly dryRunDeny?: boolean;
  /** What decided it (rule names, no contents); absent: not counted under `decidedBy`. */
  readonly decider?: FlowDecider;
}

export interface FlowGraphLimits {
  readonly maxEdges: number;
  readonly maxPathsPerEdge: number;
  readonly maxMethodsPerEdge: number;
}

export interface DecisionCounts {
  allow: number;
  deny: number;
  dryRunDeny: number;
}

export interface PathSnapshot {
  readonly count: number;
  readonly lastSeen: string;
}

/** The methods and paths of one verdict's requests on an edge, so each verdict is drawn with its own. */
export interface VerdictDetail {
  readonly methods: Readonly<Record<string, number>>;
  readonly paths: Readonly<Record<string, number>>;
}

export interface VerdictDetails {
  readonly allow: VerdictDetail;
  /** Every verdict other than allow (deny, unauthenticated, invalid request), as `decisions.deny` counts them. */
  readonly deny: VerdictDetail;
}

export interface EdgeSnapshot {
  readonly source: string;
  readonly destination: string;
  readonly count: number;
  readonly lastSeen: string;
  readonly decisions: Readonly<DecisionCounts>;
  readonly methods: Readonly<Record<string, number>>;
  readonly paths: Readonly<Record<string, PathSnapshot>>;
  /** `methods` and `paths` split by verdict; absent in snapshots from servers before it was kept. */
  readonly byVerdict?: VerdictDetails;
  /**
   * Requests by what decided them (`policy_allow payments-api rules[0]`, `default_deny`,
   * `dry-run deny NAME rules[N]`), at most MAX_DECIDERS_PER_EDGE; absent in older snapshots.
   */
  readonly decidedBy?: Readonly<Record<string, number>>;
  /** Observations whose method or path did not fit under the caps (counted in `count`). */
  readonly overflow: { readonly methods: number; readonly paths: number };
}

export interface FlowGraphSnapshot {
  readonly edges: readonly EdgeSnapshot[];
  /** Observations dropped because the graph already held `maxEdges` edges. */
  readonly overflow: { readonly edges: number };
}

export const DEFAULT_FLOW_GRAPH_LIMITS: FlowGraphLimits = Object.freeze({
  maxEdges: 10_000,
  maxPathsPerEdge: 100,
  maxMethodsPerEdge: 16,
});

/** Longer names are cut: they are hostile or broken, and must not grow memory unboundedly. */
const MAX_NAME_LENGTH = 256;
const MAX_TEMPLATE_LENGTH = 1024;
/** Templated paths remembered (templating is a dozen regex tests per segment); starts over when full. */
const MAX_REMEMBERED_TEMPLATES = 4096;
/** Distinct deciders kept per edge: rule names come from the policy, not traffic, but a huge set must not grow an edge. */
const MAX_DECIDERS_PER_EDGE = 32;

interface PathEntry {
  count: number;
  lastSeen: number;
}

interface Detail {
  readonly methods: Map<string, number>;
  readonly paths: Map<string, number>;
}

interface Edge {
  readonly source: string;
  readonly destination: string;
  count: number;
  lastSeen: number;
  readonly decisions: DecisionCounts;
  readonly methods: Map<string, number>;
  readonly paths: Map<string, PathEntry>;
  readonly byVerdict: { readonly allow: Detail; readonly deny: Detail };
  readonly decidedBy: Map<string, number>;
  readonly overflow: { methods: number; paths: number };
}

export interface FlowGraphDeps {
  /** Epoch milliseconds; injectable so tests never depend on the wall clock. */
  readonly now?: () => number;
}

export class FlowGraph {
  readonly #limits: FlowGraphLimits;
  readonly #now: () => number;
  /** By source, then destination: no key string is built per observation. */
  readonly #edges = new Map<string, Map<string, Edge>>();
  #edgeCount = 0;
  readonly #templates = new Map<string, string>();
  #edgeOverflow = 0;

  constructor(limits: Partial<FlowGraphLimits> = {}, deps: FlowGraphDeps = {}) {
    this.#limits = validateLimits({ ...DEFAULT_FLOW_GRAPH_LIMITS, ...limits });
    this.#now = deps.now ?? Date.now;
  }

  /** Aggregates snapshots (e.g. one per worker) into one graph under the given caps. */
  static merge(graphs: readonly (FlowGraph | FlowGraphSnapshot)[], limits: Partial<FlowGraphLimits> = {}): FlowGraph {
    const merged = new FlowGraph(limits);
    for (const graph of graphs) merged.#absorb(graph instanceof FlowGraph ? graph.toJSON() : graph);
    return merged;
  }

  get size(): number {
    return this.#edgeCount;
  }

  observe(observation: FlowObservation): void {
    const edge = this.#edgeFor(clip(observation.source, MAX_NAME_LENGTH), clip(observation.destination, MAX_NAME_LENGTH));
    if (edge === undefined) {
      this.#edgeOverflow++;
      return;
    }
    const at = this.#now();
    edge.count++;
    edge.lastSeen = Math.max(edge.lastSeen, at);
    countDecision(edge.decisions, observation);
    const method = clip(observation.method, MAX_NAME_LENGTH);
    const template = observation.path === undefined ? undefined : this.#templateOf(observation.path);
    this.#addMethod(edge, method, 1);
    if (template !== undefined) this.#addPath(edge, template, 1, at);
    addDetail(edge, observation.verdict === 'allow' ? edge.byVerdict.allow : edge.byVerdict.deny, method, template, 1);
    const decider = observation.decider;
    if (decider !== undefined) {
      addDecider(edge, enforcedKey(decider.reason, decider.by), 1);
      if (observation.dryRunDeny === true) addDecider(edge, dryRunDenyKey(decider.dryRun?.by), 1);
    }
  }

  #templateOf(path: string): string {
    let template = this.#templates.get(path);
    if (template === undefined) {
      template = clip(templatePath(path), MAX_TEMPLATE_LENGTH);
      if (path.length > MAX_TEMPLATE_LENGTH) return template; // long paths are not kept: memory stays bounded
      if (this.#templates.size >= MAX_REMEMBERED_TEMPLATES) this.#templates.clear();
      this.#templates.set(path, template);
    }
    return template;
  }

  toJSON(): FlowGraphSnapshot {
    const edges = [...this.#edges.values()].flatMap((byDestination) => [...byDestination.values()].map(edgeSnapshot));
    edges.sort((a, b) => compare(a.source, b.source) || compare(a.destination, b.destination));
    return { edges, overflow: { edges: this.#edgeOverflow } };
  }

  #edgeFor(source: string, destination: string): Edge | undefined {
    let byDestination = this.#edges.get(source);
    let edge = byDestination?.get(destination);
    if (edge !== undefined || this.#edgeCount >= this.#limits.maxEdges) return edge;
    if (byDestination === undefined) this.#edges.set(source, (byDestination = new Map()));
    edge = newEdge(source, destination);
    byDestination.set(destination, edge);
    this.#edgeCount++;
    return edge;
  }

  #addMethod(edge: Edge, method: string, count: number): void {
    const known = edge.methods.get(method);
    if (known !== undefined) edge.methods.set(method, known + count);
    else if (edge.methods.size < this.#limits.maxMethodsPerEdge) edge.methods.set(method, count);
    else edge.overflow.methods += count;
  }

  #addPath(edge: Edge, template: string, count: number, at: number): void {
    const known = edge.paths.get(template);
    if (known !== undefined) {
      known.count += count;
      known.lastSeen = Math.max(known.lastSeen, at);
    } else if (edge.paths.size < this.#limits.maxPathsPerEdge) {
      edge.paths.set(template, { count, lastSeen: at });
    } else {
      edge.overflow.paths += count;
    }
  }

  #absorb(snapshot: FlowGraphSnapshot): void {
    this.#edgeOverflow += snapshot.overflow.edges;
    for (const theirs of snapshot.edges) {
      const edge = this.#edgeFor(theirs.source, theirs.destination);
      if (edge === undefined) {
        this.#edgeOverflow += theirs.count;
        continue;
      }
      this.#absorbEdge(edge, theirs);
    }
  }

  #absorbEdge(edge: Edge, theirs: EdgeSnapshot): void {
    edge.count += theirs.count;
    edge.lastSeen = Math.max(edge.lastSeen, Date.parse(theirs.lastSeen));
    edge.decisions.allow += theirs.decisions.allow;
    edge.decisions.deny += theirs.decisions.deny;
    edge.decisions.dryRunDeny += theirs.decisions.dryRunDeny;
    edge.overflow.methods += theirs.overflow.methods;
    edge.overflow.paths += theirs.overflow.paths;
    for (const [method, count] of Object.entries(theirs.methods)) this.#addMethod(edge, method, count);
    for (const [template, path] of Object.entries(theirs.paths)) {
      this.#addPath(edge, template, path.count, Date.parse(path.lastSeen));
    }
    for (const verdict of ['allow', 'deny'] as const) {
      const detail = theirs.byVerdict?.[verdict];
      for (const [method, count] of Object.entries(detail?.methods ?? {})) addDetail(edge, edge.byVerdict[verdict], method, undefined, count);
      for (const [template, count] of Object.entries(detail?.paths ?? {})) addDetail(edge, edge.byVerdict[verdict], undefined, template, count);
    }
    for (const [decider, count] of Object.entries(theirs.decidedBy ?? {})) addDecider(edge, decider, count);
  }
}

function validateLimits(limits: FlowGraphLimits): FlowGraphLimits {
  return Object.freeze({
    maxEdges: requireLimit('flowGraph.maxEdges', limits.maxEdges, 1_000_000),
    maxPathsPerEdge: requireLimit('flowGraph.maxPathsPerEdge', limits.maxPathsPerEdge, 10_000),
    maxMethodsPerEdge: requireLimit('flowGraph.maxMethodsPerEdge', limits.maxMethodsPerEdge, 64),
  });
}

function newEdge(source: string, destination: string): Edge {
  return {
    source,
    destination,
    count: 0,
    lastSeen: 0,
    decisions: { allow: 0, deny: 0, dryRunDeny: 0 },
    methods: new Map(),
    paths: new Map(),
    byVerdict: { allow: { methods: new Map(), paths: new Map() }, deny: { methods: new Map(), paths: new Map() } },
    decidedBy: new Map(),
    overflow: { methods: 0, paths: 0 },
  };
}

function addDecider(edge: Edge, decider: string, count: number): void {
  const known = edge.decidedBy.get(decider);
  if (known !== undefined) edge.decidedBy.set(decider, known + count);
  else if (edge.decidedBy.size < MAX_DECIDERS_PER_EDGE) edge.decidedBy.set(decider, count);
}

/** Counts a method and a path under one verdict, only those the edge kept: the caps bound both. */
function addDetail(edge: Edge, detail: Detail, method: string | undefined, template: string | undefined, count: number): void {
  if (method !== undefined && edge.methods.has(method)) detail.methods.set(method, (detail.methods.get(method) ?? 0) + count);
  if (template !== undefined && edge.paths.has(template)) detail.paths.set(template, (detail.paths.get(template) ?? 0) + count);
}

function detailSnapshot(detail: Detail): VerdictDetail {
  return { methods: Object.fromEntries(detail.methods), paths: Object.fromEntries(detail.paths) };
}

function countDecision(decisions: DecisionCounts, observation: FlowObservation): void {
  if (observation.verdict === 'allow') decisions.allow++;
  else decisions.deny++;
  if (observation.dryRunDeny === true) decisions.dryRunDeny++;
}

function edgeSnapshot(edge: Edge): EdgeSnapshot {
  // fromEntries defines own properties, so a hostile `__proto__` path stays plain data
  const paths = Object.fromEntries(
    [...edge.paths].map(([template, entry]) => [template, { count: entry.count, lastSeen: iso(entry.lastSeen) }]),
  );
  return {
    source: edge.source,
    destination: edge.destination,
    count: edge.count,
    lastSeen: iso(edge.lastSeen),
    decisions: { ...edge.decisions },
    methods: Object.fromEntries(edge.methods),
    paths,
    byVerdict: { allow: detailSnapshot(edge.byVerdict.allow), deny: detailSnapshot(edge.byVerdict.deny) },
    decidedBy: Object.fromEntries(edge.decidedBy),
    overflow: { ...edge.overflow },
  };
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
