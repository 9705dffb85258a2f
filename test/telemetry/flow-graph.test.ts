import { describe, expect, it } from 'vitest';
import { FlowGraph, type FlowObservation } from '../../src/telemetry/flow-graph.js';
import { TelemetryOptionError } from '../../src/telemetry/errors.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const BATCH = 'spiffe://prod.example/ns/checkout/sa/batch';

function flow(overrides: Partial<FlowObservation> = {}): FlowObservation {
  return { source: CHECKOUT, destination: 'payments', method: 'GET', path: '/v1/charges', verdict: 'allow', ...overrides };
}

function clock(start = Date.UTC(2026, 0, 1)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('FlowGraph', () => {
  it('records one edge per source and destination with methods, templated paths and decisions', () => {
    const time = clock();
    const graph = new FlowGraph({}, time);
    graph.observe(flow({ path: '/v1/charges/123' }));
    time.advance(1000);
    graph.observe(flow({ method: 'POST', path: '/v1/charges/456', verdict: 'deny', dryRunDeny: true }));
    graph.observe(flow({ source: BATCH, verdict: 'unauthenticated' }));

    const { edges, overflow } = graph.toJSON();
    expect(overflow.edges).toBe(0);
    expect(edges.map((e) => e.source)).toEqual([BATCH, CHECKOUT]);
    const checkout = edges[1];
    expect(checkout).toMatchObject({
      destination: 'payments',
      count: 2,
      lastSeen: '2026-01-01T00:00:01.000Z',
      decisions: { allow: 1, deny: 1, dryRunDeny: 1 },
      methods: { GET: 1, POST: 1 },
      paths: { '/v1/charges/{*}': { count: 2, lastSeen: '2026-01-01T00:00:01.000Z' } },
    });
    expect(edges[0]?.decisions).toEqual({ allow: 0, deny: 1, dryRunDeny: 0 });
  });

  it('keeps the methods and paths of allowed and of denied requests apart, through a merge', () => {
    const graph = new FlowGraph();
    graph.observe(flow({ path: '/metrics' }));
    graph.observe(flow({ method: 'POST', path: '/debug/pprof', verdict: 'deny' }));
    graph.observe(flow({ path: '/debug/pprof', verdict: 'unauthenticated' }));
    const expected = {
      allow: { methods: { GET: 1 }, paths: { '/metrics': 1 } },
      deny: { methods: { POST: 1, GET: 1 }, paths: { '/debug/pprof': 2 } },
    };
    expect(graph.toJSON().edges[0]?.byVerdict).toEqual(expected);
    const merged = FlowGraph.merge([graph, JSON.parse(JSON.stringify(graph.toJSON()))]).toJSON();
    expect(merged.edges[0]?.byVerdict).toEqual({
      allow: { methods: { GET: 2 }, paths: { '/metrics': 2 } },
      deny: { methods: { POST: 2, GET: 2 }, paths: { '/debug/pprof': 4 } },
    });
  });

  it('counts observations beyond maxEdges as edge overflow instead of growing', () => {
    const graph = new FlowGraph({ maxEdges: 2 });
    for (let i = 0; i < 5; i++) graph.observe(flow({ destination: `svc-${i}` }));
    graph.observe(flow({ destination: 'svc-0' }));
    expect(graph.size).toBe(2);
    expect(graph.toJSON().overflow.edges).toBe(3);
    expect(graph.toJSON().edges.find((e) => e.destination === 'svc-0')?.count).toBe(2);
  });

  it.each([
    ['paths', { maxPathsPerEdge: 2 }, (i: number) => flow({ path: `/route-${String.fromCharCode(97 + i)}` })],
    ['methods', { maxMethodsPerEdge: 2 }, (i: number) => flow({ method: `M${String.fromCharCode(65 + i)}` })],
  ] as const)('caps %s per edge and counts the overflow', (dimension, limits, make) => {
    const graph = new FlowGraph(limits);
    for (let i = 0; i < 5; i++) graph.observe(make(i));
    const edge = graph.toJSON().edges[0];
    expect(Object.keys(edge?.[dimension] ?? {})).toHaveLength(2);
    expect(edge?.overflow[dimension]).toBe(3);
    expect(edge?.count).toBe(5);
  });

  it('keeps a hostile __proto__ path as plain data', () => {
    const graph = new FlowGraph();
    graph.observe(flow({ path: '__proto__' }));
    const paths = graph.toJSON().edges[0]?.paths ?? {};
    expect(Object.keys(paths)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(paths)).toBe(Object.prototype);
  });

  it('clips very long source names so memory stays bounded', () => {
    const graph = new FlowGraph();
    graph.observe(flow({ source: 'x'.repeat(10_000) }));
    expect(graph.toJSON().edges[0]?.source).toHaveLength(256);
  });

  it('merges worker snapshots by summing counts and keeping the latest lastSeen', () => {
    const early = clock(Date.UTC(2026, 0, 1));
    const late = clock(Date.UTC(2026, 0, 2));
    const a = new FlowGraph({}, early);
    const b = new FlowGraph({}, late);
    a.observe(flow());
    b.observe(flow({ method: 'POST', verdict: 'deny' }));
    b.observe(flow({ destination: 'ledger' }));

    const merged = FlowGraph.merge([a.toJSON(), JSON.parse(JSON.stringify(b.toJSON())), new FlowGraph()]).toJSON();
    expect(merged.edges).toHaveLength(2);
    expect(merged.edges.find((e) => e.destination === 'payments')).toMatchObject({
      count: 2,
      lastSeen: '2026-01-02T00:00:00.000Z',
      decisions: { allow: 1, deny: 1, dryRunDeny: 0 },
      methods: { GET: 1, POST: 1 },
      paths: { '/v1/charges': { count: 2, lastSeen: '2026-01-02T00:00:00.000Z' } },
    });
  });

  it('applies caps again when merging and carries overflow across', () => {
    const a = new FlowGraph({ maxEdges: 1 });
    const b = new FlowGraph();
    a.observe(flow({ destination: 'one' }));
    a.observe(flow({ destination: 'two' }));
    b.observe(flow({ destination: 'three' }));
    b.observe(flow({ destination: 'three' }));
    const merged = FlowGraph.merge([a, b], { maxEdges: 1 }).toJSON();
    expect(merged.edges.map((e) => e.destination)).toEqual(['one']);
    expect(merged.overflow.edges).toBe(3);
  });

  it.each([0, -1, 1.5, Number.POSITIVE_INFINITY])('refuses maxEdges %s at construction', (maxEdges) => {
    expect(() => new FlowGraph({ maxEdges })).toThrow(TelemetryOptionError);
  });
});
