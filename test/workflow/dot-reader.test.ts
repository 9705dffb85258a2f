import { describe, expect, test } from 'vitest';
import { readDot } from './dot-reader.js';

describe('the test DOT reader is strict', () => {
  test('reads graphs, nodes, edges and attributes', () => {
    const graph = readDot('digraph "g" { rankdir=LR; node [shape=box]; "a:b/c"; "a:b/c" -> x [label="say \\"hi\\"", w=1.5]; }');
    expect(graph).toEqual({ name: 'g', nodes: new Map([['a:b/c', {}]]), edges: [{ from: 'a:b/c', to: 'x', attributes: { label: 'say "hi"', w: '1.5' } }] });
  });

  test.each([
    { why: 'an unbalanced brace', text: 'digraph g { a; ' },
    { why: 'a missing semicolon', text: 'digraph g { a -> b }' },
    { why: 'a bare SPIFFE ID', text: 'digraph g { spiffe://td/x -> b; }' },
    { why: 'an unterminated string', text: 'digraph g { "a; }' },
    { why: 'an undirected edge', text: 'digraph g { a -- b; }' },
    { why: 'trailing text', text: 'digraph g { } x' },
  ])('refuses $why', ({ text }) => {
    expect(() => readDot(text)).toThrow();
  });
});
