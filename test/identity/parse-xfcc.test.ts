import { describe, expect, it } from 'vitest';
import { parseXfcc } from '../../src/identity/parse-xfcc.js';

describe('parseXfcc', () => {
  it('reads every key of an Envoy element, with quoted values', () => {
    const header =
      'By=spiffe://a.test/gw;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
      'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=spiffe://a.test/x;DNS=a.example;DNS=b.example;' +
      'Cert="-----BEGIN%20CERTIFICATE-----%0AMII";Chain="-----BEGIN%20CERTIFICATE-----%0AMIJ"';
    expect(parseXfcc(header)).toEqual([
      {
        by: ['spiffe://a.test/gw'],
        hash: '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688',
        subject: '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client',
        uri: ['spiffe://a.test/x'],
        dns: ['a.example', 'b.example'],
        cert: '-----BEGIN%20CERTIFICATE-----%0AMII',
        chain: '-----BEGIN%20CERTIFICATE-----%0AMIJ',
      },
    ]);
  });

  it('splits elements on commas outside quotes, keeping their order', () => {
    const elements = parseXfcc('By=spiffe://a/gw;URI=spiffe://a/first,By=spiffe://a/sidecar;Subject="CN=x, O=y";URI=spiffe://a/last');
    expect(elements.map((e) => e.uri[0])).toEqual(['spiffe://a/first', 'spiffe://a/last']);
    expect(elements[1]?.subject).toBe('CN=x, O=y');
  });

  it('unescapes \\" inside quoted values and accepts keys in any case', () => {
    expect(parseXfcc('subject="CN=\\"quoted\\"";uri=spiffe://a/x')[0]).toMatchObject({ subject: 'CN="quoted"', uri: ['spiffe://a/x'] });
  });

  it.each([
    ['', 'empty header'],
    ['URI', 'pair without ='],
    ['=x', 'empty key'],
    ['Foo=bar', 'unknown key'],
    ['URI="spiffe://a/x', 'unterminated quote'],
    ['URI="spiffe://a/x"junk', 'text after quotes'],
    ['URI=a=b', 'unquoted ='],
    ['URI=a"b', 'unquoted quote'],
    ['Hash=a;Hash=b', 'single-valued key repeated'],
    ['URI=spiffe://a/x,', 'trailing comma'],
    ['URI=spiffe://a/x;', 'trailing semicolon'],
  ])('refuses %j (%s) with ERR_XFCC_MALFORMED', (header) => {
    expect(() => parseXfcc(header)).toThrow(expect.objectContaining({ code: 'ERR_XFCC_MALFORMED', reason: 'invalid_certificate' }));
  });
});
