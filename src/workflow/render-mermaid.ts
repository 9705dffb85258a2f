/**
 * A FlowDiagram as a Mermaid flowchart. Node IDs are generated (`n0`, `n1`, …) and the
 * names go in quoted labels, where Mermaid's entity codes stand for the characters that
 * would end or break a label. Denied edges are styled red by index, dry-run edges dotted.
 */
import type { FlowDiagram } from './flow-diagram.js';

export function renderMermaid(diagram: FlowDiagram): string {
  const ids = new Map(diagram.nodes.map((node, index) => [node, `n${index}`]));
  const lines = ['flowchart LR', ...diagram.nodes.map((node) => `  ${ids.get(node)}["${mermaidText(node)}"]`)];
  const red: number[] = [];
  diagram.edges.forEach((edge, index) => {
    const arrow = edge.dryRun ? '-.->' : '-->';
    lines.push(`  ${ids.get(edge.from)} ${arrow}|"${edge.label.map(mermaidText).join('<br/>')}"| ${ids.get(edge.to)}`);
    if (edge.verdict === 'deny') red.push(index);
  });
  if (red.length > 0) lines.push(`  linkStyle ${red.join(',')} stroke:#c62828,color:#c62828`);
  return `${lines.join('\n')}\n`;
}

const ENTITIES: Readonly<Record<string, string>> = { '"': '#quot;', '<': '#lt;', '>': '#gt;', '|': '#124;', '#': '#35;' };

export function mermaidText(text: string): string {
  return text.replace(/["<>|#]/g, (c) => ENTITIES[c]!).replace(/\r?\n/g, ' ');
}
