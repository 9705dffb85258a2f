// The figure in the README (docs/workflow/flows.svg) is what `meshwarden graph` draws from the
// committed decision log: re-render it after a change to the graph (the command is in the README).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { readDecisionLog } from '../../src/workflow/decision-log-reader.js';
import { diagramFromLog } from '../../src/workflow/flow-diagram.js';

const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#45;': '-', '&#160;': ' ' };

function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&[#\w]+;/g, (e) => ENTITIES[e] ?? e));
}

describe('docs/workflow/flows.svg', () => {
  test('holds exactly the nodes and edge labels graph draws from docs/workflow/example-decisions.jsonl', async () => {
    const diagram = diagramFromLog((await readDecisionLog('docs/workflow/example-decisions.jsonl')).records);
    const drawn = [...diagram.nodes, ...diagram.edges.flatMap((e) => e.label)].sort();
    expect(svgTexts(readFileSync('docs/workflow/flows.svg', 'utf8')).sort()).toEqual(drawn);
  });

  test('labels the denied /debug/pprof call on the red edge, not under what was allowed', () => {
    const texts = svgTexts(readFileSync('docs/workflow/flows.svg', 'utf8'));
    const pprof = texts.indexOf('/debug/pprof ×1');
    expect(texts.slice(pprof, pprof + 2)).toEqual(['/debug/pprof ×1', 'denied 1']);
  });
});
