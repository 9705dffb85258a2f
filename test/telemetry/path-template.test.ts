import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { identifierKind, templatePath } from '../../src/telemetry/path-template.js';

describe('templatePath', () => {
  it.each([
    ['/users/12345/orders/6f1c2e7a-9b3d-4c1e-8f2a-0b1c2d3e4f5a', '/users/{*}/orders/{*}'],
    ['/v1/charges', '/v1/charges'],
    ['/v1/charges/', '/v1/charges/'],
    ['/files/a1b2c3d4e5f6a7b8c9d0', '/files/{*}'],
    ['/commits/deadbeef42', '/commits/{*}'],
    ['/tokens/Xk29fLq8ZpQ3mN7wR1tY', '/tokens/{*}'],
    ['/watch/dQw4w9WgXcQ', '/watch/{*}'],
    ['/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', '/reset/{*}'],
    ['/images/photo_a1b2c3d4e5f6a7b8.png', '/images/{*}'],
    ['/api/v2/health', '/api/v2/health'],
    ['/reports/annual-report-2024', '/reports/annual-report-2024'],
    ['/pages/page10', '/pages/page10'],
    ['/beef/cafebabe', '/beef/cafebabe'],
    ['/a/b/c', '/a/b/c'],
    ['/', '/'],
    ['/sessions/abcdefab-cdef-abcd-efab-cdefabcdefab', '/sessions/{*}'],
    ['/watch/dQwXwYWgXcQzz', '/watch/dQwXwYWgXcQzz'],
    ['', ''],
    ['/users/{*}/orders', '/users/{*}/orders'],
    ['//double//slash', '//double//slash'],
    ['/v1/charges/ch_1234', '/v1/charges/{*}'],
    ['/v1/items/sku-0001', '/v1/items/{*}'],
    ['/v1/entries/e_1', '/v1/entries/{*}'],
    ['/v1/customers/cus_9f8e7d6c', '/v1/customers/{*}'],
    ['/api-v2/health', '/api-v2/health'],
    ['/v1/ch_abcdefgh', '/v1/ch_abcdefgh'],
  ])('templates %s as %s', (path, expected) => {
    expect(templatePath(path)).toBe(expected);
  });

  it('is idempotent and keeps the number of segments', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9._~-]{0,24}$/), { maxLength: 8 }), (segments) => {
        const path = `/${segments.join('/')}`;
        const once = templatePath(path);
        expect(templatePath(once)).toBe(once);
        expect(once.split('/').length).toBe(path.split('/').length);
      }),
    );
  });

  it.each([
    ['12345', 'number'],
    ['6f1c2e7a-9b3d-4c1e-8f2a-0b1c2d3e4f5a', 'uuid'],
    ['deadbeef42', 'hex'],
    ['Xk29fLq8ZpQ3mN7wR1tY', 'opaque token'],
    ['sku-0001', 'prefixed id'],
    ['charges', undefined],
  ])('names the kind of %s: %s', (segment, kind) => {
    expect(identifierKind(segment)).toBe(kind);
  });
});
