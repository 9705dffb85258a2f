/**
 * CIDR matching with ipaddr.js, IPv4 and IPv6. An IPv4-mapped IPv6 address
 * (`::ffff:10.0.0.1`) is the IPv4 address it carries, on both sides, so a v4 block
 * matches a v4 peer whichever way Envoy printed it.
 */
import ipaddr from 'ipaddr.js';
import { PatternError } from '../compile-error.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

interface Block {
  readonly address: IpAddress;
  readonly bits: number;
}

export class CidrMatcher {
  readonly #v4: readonly Block[];
  readonly #v6: readonly Block[];

  constructor(blocks: readonly Block[]) {
    this.#v4 = Object.freeze(blocks.filter((b) => b.address.kind() === 'ipv4'));
    this.#v6 = Object.freeze(blocks.filter((b) => b.address.kind() === 'ipv6'));
    Object.freeze(this);
  }

  matches(address: IpAddress): boolean {
    const blocks = address.kind() === 'ipv4' ? this.#v4 : this.#v6;
    for (let i = 0; i < blocks.length; i += 1) if (address.match(blocks[i]!.address, blocks[i]!.bits)) return true;
    return false;
  }
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): Block {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseStrictAddress(addressText, false);
  if (address === undefined) throw new PatternError('ERR_COMPILE_CIDR', `"${text}" is not an IP address or CIDR block`);
  const max = address.kind() === 'ipv4' ? 32 : 128;
  const bits = slash === -1 ? max : parseBits(text.slice(slash + 1), max);
  if (bits === undefined) throw new PatternError('ERR_COMPILE_CIDR', `"${text}" has an invalid prefix length`);
  return unmapBlock(address, bits);
}

export function compileCidrs(texts: readonly string[]): CidrMatcher {
  return new CidrMatcher(texts.map(parseCidr));
}

/** A request's address, or undefined when absent or not an IP (then nothing positive matches). */
export function parseRequestAddress(text: string | undefined): IpAddress | undefined {
  if (text === undefined || text === '') return undefined;
  return parseStrictAddress(text, true);
}

function parseStrictAddress(text: string, unmap: boolean): IpAddress | undefined {
  // ipaddr.parse also takes "10" or "0x0a.0.0.1"; only the usual textual forms are addresses here.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  return unmap && v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

function parseBits(text: string, max: number): number | undefined {
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const bits = Number(text);
  return bits <= max ? bits : undefined;
}

// A mapped block of /96 or longer is the IPv4 block it carries; a shorter one stays IPv6.
function unmapBlock(address: IpAddress, bits: number): Block {
  if (address.kind() === 'ipv4') return Object.freeze({ address, bits });
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress() && bits >= 96) return Object.freeze({ address: v6.toIPv4Address(), bits: bits - 96 });
  return Object.freeze({ address, bits });
}
