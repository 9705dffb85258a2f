/**
 * A FlowDiagram as Graphviz DOT. Every ID is a quoted string (SPIFFE IDs hold `:` and `/`,
 * which bare DOT IDs cannot); denied edges are red, dry-run edges dashed.
 */
import type { DiagramEdge, FlowDiagram } from './flow-diagram.js';

const DENY_COLOR = '#c62828';

export function renderDot(diagram: FlowDiagram, name = 'meshwarden'): string {
  const lines = [
    `digraph ${dotQuote(name)} {`,
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
    ...diagram.nodes.map((node) => `  ${dotQuote(node)};`),
    ...diagram.edges.map((edge) => `  ${dotQuote(edge.from)} -> ${dotQuote(edge.to)} [${edgeAttributes(edge).join(', ')}];`),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

function edgeAttributes(edge: DiagramEdge): string[] {
  const attributes = [`label=${dotLabel(edge.label)}`];
  if (edge.verdict === 'deny') attributes.push(`color="${DENY_COLOR}"`, `fontcolor="${DENY_COLOR}"`);
  if (edge.dryRun) attributes.push('style="dashed"');
  return attributes;
}

/** A DOT double-quoted string: only `"` and `\` need escaping; line breaks become `\n`. */
export function dotQuote(text: string): string {
  return `"${escapeDot(text)}"`;
}

function dotLabel(lines: readonly string[]): string {
  return `"${lines.map(escapeDot).join('\\n')}"`;
}

function escapeDot(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n');
}
