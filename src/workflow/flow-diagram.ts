/**
 * The one model every graph is drawn from: named nodes and labelled edges, each edge an
 * allow or a deny, enforced or dry-run. Built from a flow-graph snapshot (admin `/flows`),
 * from a decision log (through the same FlowGraph the server keeps), or from the policies.
 */
import type { Verdict } from '../domain/index.js';
import { FlowGraph, type EdgeSnapshot, type FlowGraphSnapshot, type VerdictDetail } from '../telemetry/index.js';
import type { DecisionRecord } from './decision-log-reader.js';
import { compareText } from './compare-text.js';

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly verdict: 'allow' | 'deny';
  /** Dry-run: drawn dashed (a dry-run policy, or requests a dry-run policy would deny). */
  readonly dryRun: boolean;
  /** Label lines, drawn one under the other. */
  readonly label: readonly string[];
}

export interface FlowDiagram {
  readonly nodes: readonly string[];
  readonly edges: readonly DiagramEdge[];
}

/** Paths listed on one edge; more are summarized, so a busy edge stays readable. */
const MAX_PATHS = 6;

export function diagramOf(edges: readonly DiagramEdge[]): FlowDiagram {
  const nodes = new Set<string>();
  for (const edge of edges) nodes.add(edge.from).add(edge.to);
  return { nodes: [...nodes].sort(compareText), edges };
}

/**
 * One snapshot edge gives up to two drawn edges: the allowed requests (dashed when a dry-run
 * policy would have denied some) and the denied ones (red), each labelled with its own methods
 * and paths and how often each path was seen with that verdict.
 */
export function diagramFromSnapshot(snapshot: FlowGraphSnapshot): FlowDiagram {
  const edges: DiagramEdge[] = [];
  for (const edge of snapshot.edges) {
    const { allow, deny, dryRunDeny } = edge.decisions;
    const base = { from: edge.source, to: edge.destination };
    if (allow > 0) {
      const dry = dryRunDeny > 0 ? [`dry-run would deny ${dryRunDeny}`] : [];
      edges.push({ ...base, verdict: 'allow', dryRun: dryRunDeny > 0, label: [...verdictLines(edge, 'allow'), `allowed ${allow}`, ...dry] });
    }
    if (deny > 0) edges.push({ ...base, verdict: 'deny', dryRun: false, label: [...verdictLines(edge, 'deny'), `denied ${deny}`] });
  }
  return diagramOf(edges);
}

function verdictLines(edge: EdgeSnapshot, verdict: 'allow' | 'deny'): string[] {
  if (edge.byVerdict !== undefined) return detailLines(edge.byVerdict[verdict]);
  // A snapshot from a server that did not split them: one verdict owns them all, or no edge claims them.
  const other = verdict === 'allow' ? edge.decisions.deny : edge.decisions.allow;
  if (other > 0) return verdict === 'allow' ? ['methods and paths not split by verdict (an older server)'] : [];
  return detailLines({ methods: edge.methods, paths: Object.fromEntries(Object.entries(edge.paths).map(([path, p]) => [path, p.count])) });
}

function detailLines(detail: VerdictDetail): string[] {
  const methods = Object.keys(detail.methods).sort(compareText);
  const paths = Object.entries(detail.paths).sort(([pa, a], [pb, b]) => b - a || compareText(pa, pb));
  const shown = paths.slice(0, MAX_PATHS).sort(([a], [b]) => compareText(a, b)).map(([path, count]) => `${path} ×${count}`);
  const more = paths.length > MAX_PATHS ? [`… ${paths.length - MAX_PATHS} more paths`] : [];
  return [methods.join(' '), ...shown, ...more].filter((line) => line !== '');
}

const VERDICTS: ReadonlySet<string> = new Set<Verdict>(['allow', 'deny', 'unauthenticated', 'invalid_request']);

/** A decision log drawn as the server's own flow graph would have recorded it. */
export function diagramFromLog(records: readonly DecisionRecord[]): FlowDiagram {
  let now = 0;
  const graph = new FlowGraph({}, { now: () => now });
  for (const record of records) {
    now = record.time === undefined ? 0 : Date.parse(record.time) || 0;
    graph.observe({
      source: record.sourcePrincipal ?? 'unknown',
      destination: record.destination,
      method: record.method,
      path: record.path,
      verdict: VERDICTS.has(record.decision) ? (record.decision as Verdict) : 'deny',
      dryRunDeny: record.dryRun === 'would_deny',
    });
  }
  return diagramFromSnapshot(graph.toJSON());
}
