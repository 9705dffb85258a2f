import { describe, expect, it } from 'vitest';
import { parseSpiffeId, spiffeNamespace } from '../../src/domain/index.js';

describe('the namespace of a SPIFFE ID, the one reading the cache key and the matchers share', () => {
  it.each([
    ['spiffe://prod.example/ns/checkout/sa/checkout', 'checkout'],
    ['spiffe://prod.example/ns/checkout', 'checkout'],
    ['spiffe://prod.example/ns/a-b.c/sa/x/extra', 'a-b.c'],
    ['spiffe://prod.example/sa/checkout/ns/other', undefined],
    ['spiffe://prod.example/nsx/checkout', undefined],
    ['spiffe://prod.example/ns', undefined],
    ['spiffe://prod.example', undefined],
  ])('of %s is %s', (id, namespace) => {
    expect(spiffeNamespace(parseSpiffeId(id))).toBe(namespace);
  });
});
