import { describe, expect, it } from 'vitest';
import { compileCidrs, parseRequestAddress } from '../../../../src/policy/engine/matchers/cidr-match.js';

function checkMatcher(blocks: readonly string[], address: string, expected: boolean): void {
  const parsed = parseRequestAddress(address);
  expect(parsed !== undefined && compileCidrs(blocks).matches(parsed), `${blocks.join(',')} vs ${address}`).toBe(expected);
}

describe('CIDR match', () => {
  it.each([
    ['an IPv4 block', ['10.0.0.0/8'], '10.1.2.3', true],
    ['outside an IPv4 block', ['10.0.0.0/8'], '11.0.0.1', false],
    ['a bare IPv4 address is a /32', ['10.0.0.1'], '10.0.0.1', true],
    ['a bare IPv4 address refuses its neighbour', ['10.0.0.1'], '10.0.0.2', false],
    ['an IPv6 block', ['2001:db8::/32'], '2001:db8:1::5', true],
    ['outside an IPv6 block', ['2001:db8::/32'], '2001:db9::1', false],
    ['an IPv4-mapped peer matches an IPv4 block', ['10.0.0.0/8'], '::ffff:10.0.0.7', true],
    ['an IPv4-mapped block matches an IPv4 peer', ['::ffff:10.0.0.0/104'], '10.9.9.9', true],
    ['an IPv4 block never matches a plain IPv6 peer', ['0.0.0.0/0'], '2001:db8::1', false],
    ['an IPv6 block never matches an IPv4 peer', ['::/0'], '10.0.0.1', false],
    ['any of several blocks', ['192.168.0.0/16', '10.0.0.0/8'], '10.0.0.1', true],
    ['a /0 matches every IPv4 address', ['0.0.0.0/0'], '203.0.113.9', true],
  ])('%s', (_name, blocks, address, expected) => checkMatcher(blocks, address, expected));

  it.each([['10.0.0.0/33'], ['10.0.0/8'], ['not-an-ip'], ['2001:db8::/129'], ['10.0.0.0/x'], ['0x0a.0.0.1']])(
    'refuses %s',
    (block) => expect(() => compileCidrs([block])).toThrowError(expect.objectContaining({ code: 'ERR_COMPILE_CIDR' })),
  );

  it('treats a request address that is not an IP as absent', () => {
    expect([parseRequestAddress(''), parseRequestAddress('pipe'), parseRequestAddress(undefined)]).toEqual([undefined, undefined, undefined]);
  });
});
