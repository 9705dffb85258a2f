/**
 * The page's pure half (ui/graph-model.js), in Node: how a flow is drawn, which namespace a
 * name is in, and which observed peers a reach entry covers (the allowed-but-unused gap).
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the page, without types (no build step for the page)
import { edgeDecision, edgeVisible, namespaceOf, observedUnder, shortName, toElements } from '../../../ui/graph-model.js';

const CART = 'spiffe://prod.example/ns/shop/sa/cart';
const GUEST = 'spiffe://prod.example/ns/guest/sa/browser';

describe('the live map model', () => {
  it.each([
    [{ allow: 5, deny: 1, dryRunDeny: 0 }, 'denied'],
    [{ allow: 5, deny: 0, dryRunDeny: 2 }, 'dry-run-denied'],
    [{ allow: 5, deny: 0, dryRunDeny: 0 }, 'allowed'],
  ])('draws an edge with decisions %j as %s', (decisions, drawn) => {
    expect(edgeDecision(decisions)).toBe(drawn);
  });

  it.each([
    [CART, 'shop'],
    ['orders.shop.svc.cluster.local', 'shop'],
    ['orders.shop', 'shop'],
    ['orders', ''],
    ['unknown', ''],
  ])('puts %s in namespace %j', (name, namespace) => {
    expect(namespaceOf(name)).toBe(namespace);
  });

  it('names a workload ns/sa, makes one node of a name seen at both ends, and orders nodes by namespace', () => {
    expect(shortName(CART)).toBe('shop/cart');
    const { nodes, edges } = toElements({
      edges: [
        { source: CART, destination: 'orders', count: 3, decisions: { allow: 3, deny: 0, dryRunDeny: 0 } },
        { source: 'orders', destination: 'db', count: 1, decisions: { allow: 0, deny: 1, dryRunDeny: 0 } },
      ],
    });
    // In namespace order ('' before shop), then by name.
    expect(nodes.map((n: { data: { id: string; kind: string } }) => [n.data.id, n.data.kind])).toEqual([['db', 'service'], ['orders', 'both'], [CART, 'workload']]);
    expect(edges.map((e: { data: { decision: string } }) => e.data.decision)).toEqual(['allowed', 'denied']);
  });

  it('keeps an edge when either end is in the namespace chosen and its decision is shown', () => {
    const filter = { namespace: 'shop', decisions: new Set(['allowed']) };
    expect(edgeVisible({ decision: 'allowed' }, 'shop', '', filter)).toBe(true);
    expect(edgeVisible({ decision: 'allowed' }, 'guest', 'shop', filter)).toBe(true);
    expect(edgeVisible({ decision: 'denied' }, 'shop', '', filter)).toBe(false);
    expect(edgeVisible({ decision: 'allowed' }, 'guest', '', filter)).toBe(false);
  });

  it.each([
    [{ kind: 'principal', principal: CART }, [CART]],
    [{ kind: 'namespace', namespace: 'shop' }, [CART]],
    [{ kind: 'namespace', namespace: 'gu*' }, [GUEST]],
    [{ kind: 'principals', pattern: 'spiffe://prod.example/ns/shop/*' }, [CART]],
    [{ kind: 'authenticated' }, [CART, GUEST]],
    [{ kind: 'anyone' }, [CART, GUEST, 'unknown']],
    [{ kind: 'service', service: 'orders', label: 'orders' }, []],
  ])('finds the observed peers reach entry %j covers', (peer, covered) => {
    expect(observedUnder(peer, new Set([CART, GUEST, 'unknown']))).toEqual(covered);
  });

  it('counts as covered by (any other service) every observed service the answer does not name', () => {
    const other = { kind: 'service', label: '(any other service)' };
    expect(observedUnder(other, new Set(['payments', 'orders', 'ledger']), new Set(['payments']))).toEqual(['orders', 'ledger']);
  });
});
