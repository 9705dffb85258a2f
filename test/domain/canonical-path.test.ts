import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CanonicalizationError,
  canonicalizeHost,
  canonicalizePath,
  queryOf,
  type CanonicalizationErrorCode,
} from '../../src/domain/canonical-path.js';

function errorCodeOf(run: () => unknown): CanonicalizationErrorCode | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof CanonicalizationError) return error.code;
    throw error;
  }
}

describe('canonicalizePath', () => {
  const canonical: ReadonlyArray<[string, string, string]> = [
    ['leaves a plain path untouched', '/v1/charges', '/v1/charges'],
    ['keeps the root', '/', '/'],
    ['strips the query', '/v1/charges?limit=10', '/v1/charges'],
    ['strips a fragment (CVE-2021-39156)', '/admin#/public', '/admin'],
    ['strips a fragment after the query', '/a?x=1#frag', '/a'],
    ['merges repeated slashes (CVE-2021-31920)', '//admin//users', '/admin/users'],
    ['drops single-dot segments', '/./admin/./users', '/admin/users'],
    ['resolves double-dot segments', '/public/../admin', '/admin'],
    ['never climbs above the root', '/../../admin', '/admin'],
    ['resolves percent-encoded dots', '/public/%2e%2e/admin', '/admin'],
    ['resolves mixed encoded dots', '/public/.%2E/admin', '/admin'],
    ['decodes unreserved characters', '/%61dmin/%7Euser', '/admin/~user'],
    ['keeps the case of path characters', '/Admin', '/Admin'],
    ['keeps reserved encodings, in upper-case hex', '/a%3bb%3fc', '/a%3Bb%3Fc'],
    ['keeps an encoded space encoded', '/a%20b', '/a%20b'],
    ['encodes a literal space', '/a b', '/a%20b'],
    ['keeps an encoded percent sign (no double decoding)', '/a%252Fb', '/a%252Fb'],
    ['keeps a trailing slash', '/admin/', '/admin/'],
    ['turns a trailing dot segment into a trailing slash', '/admin/users/..', '/admin/'],
    ['keeps ; parameters literally so matching sees them', '/admin;jsessionid=1/users', '/admin;jsessionid=1/users'],
    ['encodes non-ASCII characters as UTF-8', '/café', '/caf%C3%A9'],
    ['normalizes encoded non-ASCII to upper-case hex', '/caf%c3%a9', '/caf%C3%A9'],
    ['encodes an emoji (surrogate pair) as UTF-8', '/😀', '/%F0%9F%98%80'],
    ['keeps sub-delims, colon and at-sign', "/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="],
    ['keeps a hidden-file segment', '/.well-known/jwks', '/.well-known/jwks'],
  ];

  it.each(canonical)('%s', (_name, input, expected) => {
    expect(canonicalizePath(input)).toBe(expected);
  });

  const rejected: ReadonlyArray<[string, string, CanonicalizationErrorCode]> = [
    ['rejects an encoded slash (CVE-2021-31920)', '/public%2F..%2Fadmin', 'encoded_slash'],
    ['rejects an encoded slash in lower case', '/public%2f..%2fadmin', 'encoded_slash'],
    ['rejects ..%2f', '/public/..%2fadmin', 'encoded_slash'],
    ['rejects an encoded backslash', '/public%5C..%5Cadmin', 'encoded_backslash'],
    ['rejects an encoded backslash in lower case', '/public%5c', 'encoded_backslash'],
    ['rejects a literal backslash', '/public\\..\\admin', 'backslash'],
    ['rejects an encoded NUL', '/admin%00.json', 'control_character'],
    ['rejects a literal NUL', '/admin\u0000', 'control_character'],
    ['rejects a literal newline', '/admin\nx', 'control_character'],
    ['rejects an encoded DEL', '/a%7F', 'control_character'],
    ['rejects %%', '/a%%', 'malformed_percent_encoding'],
    ['rejects %zz', '/a%zz', 'malformed_percent_encoding'],
    ['rejects a truncated escape', '/a%2', 'malformed_percent_encoding'],
    ['rejects a half-hex escape', '/a%g1', 'malformed_percent_encoding'],
    ['rejects a relative path', 'admin', 'not_absolute'],
    ['rejects an asterisk-form target', '*', 'not_absolute'],
    ['rejects an absolute-form URL', 'http://x/admin', 'not_absolute'],
    ['rejects an empty path', '', 'not_absolute'],
    ['rejects a path that is only a query', '?a=/admin', 'not_absolute'],
    ['rejects a dot-dot segment with parameters', '/public/..;/admin', 'ambiguous_dot_segment'],
    ['rejects a dot segment with parameters', '/public/.;x/admin', 'ambiguous_dot_segment'],
    ['rejects an unpaired surrogate', '/a\uD800', 'invalid_character'],
  ];

  it.each(rejected)('%s', (_name, input, code) => {
    expect(errorCodeOf(() => canonicalizePath(input))).toBe(code);
  });

  it('decodes encoded slashes, then canonicalizes, when decodeEncodedSlashes is on', () => {
    const options = { decodeEncodedSlashes: true };
    expect(canonicalizePath('/public%2F..%2Fadmin', options)).toBe('/admin');
    expect(canonicalizePath('/a%2f%2Fb', options)).toBe('/a/b');
    expect(canonicalizePath('/a%5Cb', options)).toBe('/a/b');
    expect(errorCodeOf(() => canonicalizePath('/a\\b', options))).toBe('backslash');
  });

  it('is idempotent on every path it accepts', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/[a-zA-Z0-9%./;~ _-]{0,30}$/), (input) => {
        let once: string;
        try {
          once = canonicalizePath(input);
        } catch {
          return;
        }
        expect(canonicalizePath(once)).toBe(once);
      }),
    );
  });

  it('never yields a dot segment, an empty segment or a backslash', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/[a-z%25cCfF./\\]{0,30}$/), (input) => {
        let out: string;
        try {
          out = canonicalizePath(input, { decodeEncodedSlashes: true });
        } catch {
          return;
        }
        expect(out.startsWith('/')).toBe(true);
        const segments = out.split('/').slice(1);
        if (segments.at(-1) === '') segments.pop(); // a kept trailing slash
        expect(segments).not.toContain('');
        expect(out.split('/')).not.toContain('..');
        expect(out.split('/')).not.toContain('.');
        expect(out).not.toContain('\\');
      }),
    );
  });
});

describe('queryOf', () => {
  it.each([
    ['/a?x=1&y=2', 'x=1&y=2'],
    ['/a', ''],
    ['/a?x=1#frag', 'x=1'],
    ['/a#frag?notquery', ''],
    ['/a?', ''],
  ])('reads the query of %s as %j', (input, expected) => {
    expect(queryOf(input)).toBe(expected);
  });
});

describe('canonicalizeHost', () => {
  const canonical: ReadonlyArray<[string, string]> = [
    ['payments.prod.svc.cluster.local', 'payments.prod.svc.cluster.local'],
    ['Payments.Prod.SVC', 'payments.prod.svc'],
    ['payments:8080', 'payments'],
    ['payments.example.com.', 'payments.example.com'],
    ['payments.example.com.:443', 'payments.example.com'],
    ['payments:', 'payments'],
    ['10.0.0.1:80', '10.0.0.1'],
    ['[::1]:8080', '[::1]'],
    ['[2001:DB8::1]', '[2001:db8::1]'],
    ['', ''],
  ];

  it.each(canonical)('canonicalizes %j to %j', (input, expected) => {
    expect(canonicalizeHost(input)).toBe(expected);
  });

  it.each([
    'payments:80:80',
    'payments:http',
    'pay ments',
    'user@payments',
    'payments/admin',
    '[::1',
    '[::1]x',
    '[::g]',
    'payments..',
    '.payments',
    'pay\u0000ments',
    // the Kelvin sign lower-cases to an ASCII k: it must not pass as the name it is not
    '\u212Aube.internal',
    '[\u212A::1]',
  ])('rejects %j as invalid_host', (input) => {
    expect(errorCodeOf(() => canonicalizeHost(input))).toBe('invalid_host');
  });
});
