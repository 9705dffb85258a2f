/**
 * reach and blast radius as the FlowDiagram every renderer draws (DOT, Mermaid, SVG): one node
 * per caller class and destination, one allow edge per entry, labelled with its methods,
 * paths and the rule that allows it.
 */
import { destinationLabel, type BlastRadius, type ReachEntry, type ReachReport } from '../../policy/index.js';
import { diagramOf, type DiagramEdge, type FlowDiagram } from '../flow-diagram.js';
import { callerLabel, ruleText } from './reach-text.js';

export function diagramFromReach(report: ReachReport): FlowDiagram {
  const caller = 'caller' in report.query ? (report.query.caller.principal ?? 'unauthenticated') : undefined;
  return diagramOf(report.entries.map((entry) => edgeOf(caller ?? callerLabel(entry.caller), entry)));
}

export function diagramFromBlast(blast: BlastRadius): FlowDiagram {
  const edges: DiagramEdge[] = [];
  for (const hop of blast.hops) {
    const to = hop.toIdentity ?? destinationLabel(hop.to);
    edges.push({ from: hop.from, to, verdict: 'allow', dryRun: false, label: [`hop ${hop.depth}: ${destinationLabel(hop.to)}`, ...hop.entries.slice(0, 3).map(operationLine), ...(hop.entries.length > 3 ? [`… ${hop.entries.length - 3} more`] : [])] });
  }
  return diagramOf(edges);
}

function edgeOf(from: string, entry: ReachEntry): DiagramEdge {
  const label = [ruleText(entry.allowedBy), operationLine(entry), ...(entry.unless.length > 0 ? [`unless ${entry.unless.length} DENY rule(s)`] : [])];
  return { from, to: destinationLabel(entry.destination), verdict: 'allow', dryRun: false, label };
}

function operationLine(entry: ReachEntry): string {
  const conditions = entry.conditions.length > 0 ? ` (+${entry.conditions.length} condition${entry.conditions.length > 1 ? 's' : ''})` : '';
  return `${entry.methods?.values?.join(' ') ?? 'any method'} ${entry.paths?.values?.join(' ') ?? 'any path'}${conditions}`;
}
