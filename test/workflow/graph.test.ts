import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDecisionLog } from '../../src/workflow/decision-log-reader.js';
import { diagramFromLog, diagramFromSnapshot, diagramOf, type FlowDiagram } from '../../src/workflow/flow-diagram.js';
import { parseFlowSnapshot } from '../../src/workflow/flows-source.js';
import { renderDot } from '../../src/workflow/render-dot.js';
import { mermaidText, renderMermaid } from '../../src/workflow/render-mermaid.js';
import { renderSvg } from '../../src/workflow/render-svg.js';
import { WorkflowError } from '../../src/workflow/workflow-error.js';
import { readDot } from './dot-reader.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const HOSTILE = 'svc "quoted" \\ back\nline';
/** DOT has no raw line break in an ID: the renderer writes `\n`, which the reader keeps as written. */
const asDot = (name: string) => name.replace(/\n/g, '\\n');

const DIAGRAM: FlowDiagram = diagramOf([
  { from: CHECKOUT, to: 'payments', verdict: 'allow', dryRun: false, label: ['GET', '/v1/charges/{*}', 'allowed 3'] },
  { from: CHECKOUT, to: 'payments', verdict: 'deny', dryRun: false, label: ['denied 1'] },
  { from: 'unknown', to: 'ledger', verdict: 'allow', dryRun: true, label: ['allowed 2', 'dry-run would deny 2'] },
  { from: HOSTILE, to: 'a|b<c>#d', verdict: 'deny', dryRun: true, label: ['say "hi" | <b>'] },
]);

describe('DOT', () => {
  const graph = readDot(renderDot(DIAGRAM));

  test('parses, with every node declared and quoted (SPIFFE IDs keep their : and /)', () => {
    expect([...graph.nodes.keys()].sort()).toEqual(DIAGRAM.nodes.map(asDot).sort());
    expect(graph.nodes.has(CHECKOUT)).toBe(true);
  });

  test('has one edge statement per edge, in order, between the expected nodes', () => {
    expect(graph.edges.map((e) => [e.from, e.to])).toEqual(DIAGRAM.edges.map((e) => [asDot(e.from), asDot(e.to)]));
  });

  test.each([
    { index: 0, attributes: { label: 'GET\\n/v1/charges/{*}\\nallowed 3' } },
    { index: 1, attributes: { label: 'denied 1', color: '#c62828', fontcolor: '#c62828' } },
    { index: 2, attributes: { label: 'allowed 2\\ndry-run would deny 2', style: 'dashed' } },
    { index: 3, attributes: { label: 'say "hi" | <b>', color: '#c62828', fontcolor: '#c62828', style: 'dashed' } },
  ])('edge $index: allowed plain, denied red, dry-run dashed', ({ index, attributes }) => {
    expect(graph.edges[index]!.attributes).toEqual(attributes);
  });

  test('quotes and backslashes in names survive the round trip; line breaks become \\n', () => {
    expect(graph.nodes.has('svc "quoted" \\ back\\nline')).toBe(true);
  });
});

describe('Mermaid', () => {
  test('writes generated ids, quoted labels, dotted dry-run edges, and red denied links', () => {
    expect(renderMermaid(DIAGRAM).split('\n')).toEqual([
      'flowchart LR',
      '  n0["a#124;b#lt;c#gt;#35;d"]',
      '  n1["ledger"]',
      '  n2["payments"]',
      `  n3["${CHECKOUT}"]`,
      '  n4["svc #quot;quoted#quot; \\ back line"]',
      '  n5["unknown"]',
      '  n3 -->|"GET<br/>/v1/charges/{*}<br/>allowed 3"| n2',
      '  n3 -->|"denied 1"| n2',
      '  n5 -.->|"allowed 2<br/>dry-run would deny 2"| n1',
      '  n4 -.->|"say #quot;hi#quot; #124; #lt;b#gt;"| n0',
      '  linkStyle 1,3 stroke:#c62828,color:#c62828',
      '',
    ]);
  });

  test.each([
    { text: 'a"b', out: 'a#quot;b' },
    { text: '#quot;', out: '#35;quot;' },
    { text: 'x\ny', out: 'x y' },
  ])('escapes $text', ({ text, out }) => {
    expect(mermaidText(text)).toBe(out);
  });
});

describe('diagrams of observed flows', () => {
  const PROMETHEUS = 'spiffe://prod.example/ns/monitoring/sa/prometheus';
  const EDGE = {
    source: CHECKOUT,
    destination: 'payments',
    count: 5,
    lastSeen: '2024-05-01T10:00:00.000Z',
    decisions: { allow: 4, deny: 1, dryRunDeny: 2 },
    methods: { POST: 1, GET: 4 },
    paths: { '/v1/charges/{*}': { count: 4, lastSeen: 'x' }, '/v1/charges': { count: 1, lastSeen: 'x' } },
    overflow: { methods: 0, paths: 0 },
  };
  const BY_VERDICT = {
    allow: { methods: { GET: 4 }, paths: { '/v1/charges/{*}': 4 } },
    deny: { methods: { POST: 1 }, paths: { '/v1/charges': 1 } },
  };
  const snapshot = (edge: object) => parseFlowSnapshot(JSON.stringify({ edges: [edge], overflow: { edges: 0 } }), 'f.json');

  test('a /flows edge with allows and denies draws a dashed allowed edge (dry-run denies) and a red denied one, each with its own methods and paths', () => {
    expect(diagramFromSnapshot(snapshot({ ...EDGE, byVerdict: BY_VERDICT })).edges).toEqual([
      { from: CHECKOUT, to: 'payments', verdict: 'allow', dryRun: true, label: ['GET', '/v1/charges/{*} ×4', 'allowed 4', 'dry-run would deny 2'] },
      { from: CHECKOUT, to: 'payments', verdict: 'deny', dryRun: false, label: ['POST', '/v1/charges ×1', 'denied 1'] },
    ]);
  });

  test('a snapshot from a server that did not split paths by verdict lists none under a verdict they may not belong to', () => {
    expect(diagramFromSnapshot(snapshot(EDGE)).edges.map((e) => e.label)).toEqual([
      ['methods and paths not split by verdict (an older server)', 'allowed 4', 'dry-run would deny 2'],
      ['denied 1'],
    ]);
    const onlyAllowed = { ...EDGE, decisions: { allow: 5, deny: 0, dryRunDeny: 0 } };
    expect(diagramFromSnapshot(snapshot(onlyAllowed)).edges.map((e) => e.label)).toEqual([['GET POST', '/v1/charges ×1', '/v1/charges/{*} ×4', 'allowed 5']]);
  });

  test.each([
    { text: 'nope', message: /f\.json: not JSON/ },
    { text: '{"edges": 3}', message: /f\.json: not a flow graph/ },
    { text: '{"edges": [{"source": "a"}]}', message: /an edge needs .* \(edges\[0\]\)/ },
    { text: JSON.stringify({ edges: [{ ...EDGE, byVerdict: { allow: {} } }] }), message: /byVerdict.* \(edges\[0\]\)/ },
  ])('a file that is not a flow graph is refused: $text', ({ text, message }) => {
    expect(() => parseFlowSnapshot(text, 'f.json')).toThrow(message);
  });

  test('a decision log is drawn as the flow graph would record it: ids templated, callers without identity as unknown', () => {
    const log = parseDecisionLog(
      [
        `{"decision":"allow","reason":"policy_allow","source_principal":"${CHECKOUT}","destination":"payments","method":"GET","path":"/v1/charges/1"}`,
        `{"decision":"allow","reason":"policy_allow","source_principal":"${CHECKOUT}","destination":"payments","method":"GET","path":"/v1/charges/2"}`,
        '{"decision":"deny","reason":"default_deny","destination":"payments","method":"GET","path":"/x"}',
      ].join('\n'),
      'd',
    );
    expect(diagramFromLog(log.records)).toEqual({
      nodes: ['payments', CHECKOUT, 'unknown'],
      edges: [
        { from: CHECKOUT, to: 'payments', verdict: 'allow', dryRun: false, label: ['GET', '/v1/charges/{*} ×2', 'allowed 2'] },
        { from: 'unknown', to: 'payments', verdict: 'deny', dryRun: false, label: ['GET', '/x ×1', 'denied 1'] },
      ],
    });
  });

  test('a path that was denied is listed under denied only, never under the allowed edge of the same caller', () => {
    const line = (decision: string, path: string) =>
      `{"decision":"${decision}","reason":"policy_${decision}","source_principal":"${PROMETHEUS}","destination":"payments","method":"GET","path":"${path}"}`;
    const log = parseDecisionLog([line('allow', '/metrics'), line('allow', '/metrics'), line('deny', '/debug/pprof')].join('\n'), 'd');
    expect(diagramFromLog(log.records).edges.map((e) => [e.verdict, e.label])).toEqual([
      ['allow', ['GET', '/metrics ×2', 'allowed 2']],
      ['deny', ['GET', '/debug/pprof ×1', 'denied 1']],
    ]);
  });
});

describe('SVG', () => {
  test('without Graphviz, says so and how to do without it', async () => {
    const failure = renderSvg('digraph g {}', 'meshwarden-no-such-dot');
    await expect(failure).rejects.toBeInstanceOf(WorkflowError);
    await expect(failure).rejects.toMatchObject({ code: 'graphviz_missing', message: expect.stringContaining('--format dot or mermaid') });
  });

  test('pipes the DOT through the command and returns its output; a failing command is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-dot-'));
    const fake = join(dir, 'fake-dot');
    writeFileSync(fake, '#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 3\nprintf "<svg>"; cat; printf "</svg>"\n');
    chmodSync(fake, 0o755);
    expect(await renderSvg('digraph g {}', fake)).toBe('<svg>digraph g {}</svg>');
    const broken = join(dir, 'broken-dot');
    writeFileSync(broken, '#!/bin/sh\necho "syntax error" >&2\nexit 1\n');
    chmodSync(broken, 0o755);
    await expect(renderSvg('x', broken)).rejects.toMatchObject({ code: 'graphviz_failed', message: expect.stringContaining('syntax error') });
  });
});
