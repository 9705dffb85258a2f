import { describe, expect, it } from 'vitest';
import { compilePrincipalSet, normalizePrincipalPattern } from '../../../../src/policy/engine/matchers/principal-match.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';

function checkMatcher(pattern: string, uri: string, expected: boolean): void {
  expect(compilePrincipalSet([pattern]).matches(uri), `${pattern} vs ${uri}`).toBe(expected);
}

describe('principal match', () => {
  it.each([
    ['a full SPIFFE ID', ID, ID, true],
    ["Istio's form without the scheme means the same ID", 'cluster.local/ns/shop/sa/cart', ID, true],
    ['another service account', 'cluster.local/ns/shop/sa/web', ID, false],
    ['a prefix in Istio form', 'cluster.local/ns/shop/*', ID, true],
    ['a prefix of another namespace', 'cluster.local/ns/ops/*', ID, false],
    ['a suffix', '*/sa/cart', ID, true],
    ['presence', '*', ID, true],
  ])('%s', (_name, pattern, uri, expected) => checkMatcher(pattern, uri, expected));

  it('normalizes patterns to full URIs once', () => {
    expect(['a.example/ns/x/sa/y', 'spiffe://a.example/x', '*/y', '*'].map(normalizePrincipalPattern)).toEqual([
      'spiffe://a.example/ns/x/sa/y',
      'spiffe://a.example/x',
      '*/y',
      '*',
    ]);
  });

  it.each([['Cluster.Local/ns/x'], ['spiffe://a.example/ns/'], ['cluster.local/ns/x/sa/y?z']])('refuses the malformed ID %s', (pattern) => {
    expect(() => normalizePrincipalPattern(pattern)).toThrowError(expect.objectContaining({ code: 'ERR_COMPILE_PRINCIPAL' }));
  });
});
