import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTrustDomainName, parseSpiffeId, tryParseSpiffeId } from '../../src/domain/parse-spiffe-id.js';

const VALID: [string, string, string][] = [
  ['spiffe://example.org', 'example.org', ''],
  ['spiffe://example.org/ns/default/sa/api', 'example.org', '/ns/default/sa/api'],
  ['spiffe://a_b-c.d0/Path.With-Upper_9', 'a_b-c.d0', '/Path.With-Upper_9'],
  ['spiffe://td/.../..a/a..', 'td', '/.../..a/a..'],
];

const INVALID: [string, string][] = [
  ['', 'ERR_SPIFFE_EMPTY'],
  [`spiffe://td/${'a'.repeat(2040)}`, 'ERR_SPIFFE_TOO_LONG'],
  [`spiffe://td/${'é'.repeat(1100)}`, 'ERR_SPIFFE_TOO_LONG'],
  ['SPIFFE://td/x', 'ERR_SPIFFE_SCHEME'],
  ['https://td/x', 'ERR_SPIFFE_SCHEME'],
  ['spiffe:/td/x', 'ERR_SPIFFE_SCHEME'],
  ['td/x', 'ERR_SPIFFE_SCHEME'],
  ['spiffe://', 'ERR_SPIFFE_TRUST_DOMAIN_MISSING'],
  ['spiffe:///x', 'ERR_SPIFFE_TRUST_DOMAIN_MISSING'],
  [`spiffe://${'a'.repeat(256)}`, 'ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG'],
  ['spiffe://Example.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_CHAR'],
  ['spiffe://exa mple/x', 'ERR_SPIFFE_TRUST_DOMAIN_CHAR'],
  ['spiffe://[::1]/x', 'ERR_SPIFFE_PORT'],
  ['spiffe://user@td/x', 'ERR_SPIFFE_USER_INFO'],
  ['spiffe://user:pw@td/x', 'ERR_SPIFFE_USER_INFO'],
  ['spiffe://td:443/x', 'ERR_SPIFFE_PORT'],
  ['spiffe://td:/x', 'ERR_SPIFFE_PORT'],
  ['spiffe://td/x?y=1', 'ERR_SPIFFE_QUERY'],
  ['spiffe://td?x', 'ERR_SPIFFE_QUERY'],
  ['spiffe://td/x#frag', 'ERR_SPIFFE_FRAGMENT'],
  ['spiffe://td/x#a?b', 'ERR_SPIFFE_FRAGMENT'],
  ['spiffe://t%64/x', 'ERR_SPIFFE_PERCENT_ENCODED'],
  ['spiffe://td/a%2Fb', 'ERR_SPIFFE_PERCENT_ENCODED'],
  ['spiffe://td/', 'ERR_SPIFFE_TRAILING_SLASH'],
  ['spiffe://td/x/', 'ERR_SPIFFE_TRAILING_SLASH'],
  ['spiffe://td//x', 'ERR_SPIFFE_PATH_EMPTY_SEGMENT'],
  ['spiffe://td/./x', 'ERR_SPIFFE_PATH_DOT_SEGMENT'],
  ['spiffe://td/x/..', 'ERR_SPIFFE_PATH_DOT_SEGMENT'],
  ['spiffe://td/x y', 'ERR_SPIFFE_PATH_CHAR'],
  ['spiffe://td/x:y', 'ERR_SPIFFE_PATH_CHAR'],
  ['spiffe://td/é', 'ERR_SPIFFE_PATH_CHAR'],
  ['spiffe://td/a\\b', 'ERR_SPIFFE_PATH_CHAR'],
];

describe('parseSpiffeId', () => {
  it.each(VALID)('accepts %s', (text, trustDomain, path) => {
    expect(parseSpiffeId(text)).toEqual({ trustDomain, path, uri: text });
  });

  it.each(INVALID)('refuses %s with %s', (text, code) => {
    expect(() => parseSpiffeId(text)).toThrow(expect.objectContaining({ code }));
  });

  it('accepts exactly 2048 bytes and refuses 2049', () => {
    const base = 'spiffe://td/';
    expect(parseSpiffeId(base + 'a'.repeat(2048 - base.length)).uri).toHaveLength(2048);
    expect(() => parseSpiffeId(base + 'a'.repeat(2049 - base.length))).toThrow(expect.objectContaining({ code: 'ERR_SPIFFE_TOO_LONG' }));
  });

  it('returns a frozen value', () => {
    expect(Object.isFrozen(parseSpiffeId('spiffe://td/x'))).toBe(true);
  });

  it('parses every ID built from the allowed alphabet, and gives back its parts', () => {
    const tdChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-_');
    const segChar = fc.constantFrom(...'abcXYZ019.-_');
    const segment = fc.string({ unit: segChar, minLength: 1, maxLength: 8 }).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.string({ unit: tdChar, minLength: 1, maxLength: 20 }), fc.array(segment, { maxLength: 5 }), (td, segments) => {
        const path = segments.map((s) => `/${s}`).join('');
        expect(parseSpiffeId(`spiffe://${td}${path}`)).toEqual({ trustDomain: td, path, uri: `spiffe://${td}${path}` });
      }),
    );
  });

  it('never throws anything but a coded SpiffeIdError, whatever the input', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseSpiffeId(`spiffe://${text}`);
        } catch (error) {
          expect((error as { code: string }).code).toMatch(/^ERR_SPIFFE_/);
        }
      }),
    );
  });
});

describe('tryParseSpiffeId and isTrustDomainName', () => {
  it('answers undefined instead of throwing', () => {
    expect(tryParseSpiffeId('spiffe://td/x/')).toBeUndefined();
    expect(tryParseSpiffeId('spiffe://td/x')?.path).toBe('/x');
  });

  it.each([
    ['prod.example', true],
    ['Prod.example', false],
    ['prod.example/x', false],
    ['', false],
  ])('judges %j a trust domain name: %s', (name, ok) => {
    expect(isTrustDomainName(name)).toBe(ok);
  });
});
