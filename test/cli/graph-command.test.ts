import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { graphCommand } from '../../src/cli/graph.js';
import { CliUsageError } from '../../src/cli/usage.js';
import { FlowGraph } from '../../src/telemetry/flow-graph.js';
import { readDot } from '../workflow/dot-reader.js';
import { capture } from './capture.js';

const path = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';

function flowsJson(): string {
  const graph = new FlowGraph({}, { now: () => Date.UTC(2024, 4, 1) });
  graph.observe({ source: CHECKOUT, destination: 'payments', method: 'GET', path: '/v1/charges/42', verdict: 'allow' });
  graph.observe({ source: 'spiffe://prod.example/ns/checkout/sa/batch', destination: 'payments', method: 'GET', path: '/v1/charges/7', verdict: 'deny' });
  return JSON.stringify(graph.toJSON());
}

const edgesOf = (dot: string) => readDot(dot).edges.map((e) => `${e.from} -> ${e.to}${e.attributes['color'] ? ' (red)' : ''}${e.attributes['style'] === 'dashed' ? ' (dashed)' : ''}`);

describe('meshwarden graph', () => {
  test('--policy draws what the example policies allow and deny', async () => {
    const run = await capture(graphCommand, ['--policy', path('examples/policies')]);
    expect(run.code).toBe(0);
    expect(edgesOf(run.stdout)).toEqual([
      '* -> * (red)',
      'spiffe://prod.example/ns/payments/sa/payments -> ledger (dashed)',
      'spiffe://cluster.local/ns/shop/sa/frontend -> ns:shop',
      'spiffe://cluster.local/ns/shop/sa/checkout -> ns:shop',
      `${CHECKOUT} -> payments`,
      'ns:monitoring -> payments',
      'spiffe://prod.example/ns/support/sa/support-portal -> payments',
    ]);
    expect(readDot(run.stdout).edges[4]!.attributes['label']).toBe('payments-api[0]\\nGET POST /v1/charges /v1/charges/{*}');
  });

  test('--flows reads a saved /flows snapshot', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mw-flows-')), 'flows.json');
    writeFileSync(file, flowsJson());
    const run = await capture(graphCommand, ['--flows', file]);
    expect(edgesOf(run.stdout)).toEqual([`spiffe://prod.example/ns/checkout/sa/batch -> payments (red)`, `${CHECKOUT} -> payments`]);
    expect(readDot(run.stdout).edges.map((e) => e.attributes['label'])).toEqual(['GET\\n/v1/charges/{*} ×1\\ndenied 1', 'GET\\n/v1/charges/{*} ×1\\nallowed 1']);
  });

  test('--flows fetches the admin endpoint over HTTP', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/flows' ? 200 : 404, { 'content-type': 'application/json' }).end(flowsJson());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const run = await capture(graphCommand, ['--flows', `${base}/flows`, '--format', 'mermaid']);
      expect(run.stdout.split('\n')).toContain(`  n2["${CHECKOUT}"]`);
      await expect(graphCommand(['--flows', `${base}/nope`])).rejects.toMatchObject({ code: 'fetch_failed', message: expect.stringContaining('HTTP 404') });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('--log draws a decision log; --out writes the file', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mw-graph-')), 'g.mmd');
    const run = await capture(graphCommand, ['--log', path('test/fixtures/workflow/decisions.jsonl'), '--format', 'mermaid', '--out', out]);
    expect(run.stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('flowchart LR\n')).toBe(true);
    expect(text).toContain('-->|"GET<br/>/orders/{*} ×2<br/>allowed 2"|');
    expect(text).toContain('-->|"GET<br/>/files/* ×1<br/>denied 1"|');
  });

  test.each([
    { why: 'no source', argv: [] },
    { why: 'two sources', argv: ['--log', 'a', '--flows', 'b'] },
    { why: 'an unknown format', argv: ['--log', 'a', '--format', 'png'] },
  ])('$why is a usage error', async ({ argv }) => {
    await expect(graphCommand(argv)).rejects.toBeInstanceOf(CliUsageError);
  });
});
