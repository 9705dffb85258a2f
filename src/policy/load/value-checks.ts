/** Checks of single values in sources, operations and conditions; each says what is wrong. */
import ipaddr from 'ipaddr.js';
import { SpiffeIdError, parseSpiffeId } from '../../domain/index.js';
import type { PolicyErrorCode } from './policy-error.js';
import { isPattern, stringMatchProblem } from './string-match.js';

export interface ValueProblem {
  readonly code: PolicyErrorCode;
  readonly message: string;
}

export type ValueCheck = (value: string) => ValueProblem | undefined;

export const checkStringMatch: ValueCheck = (value) => {
  const problem = stringMatchProblem(value);
  return problem === undefined ? undefined : { code: 'invalid_string_match', message: problem };
};

/** A SPIFFE ID, Istio's `td/ns/NS/sa/SA` (the same ID without the scheme), or a pattern. */
export const checkPrincipal: ValueCheck = (value) => {
  const match = checkStringMatch(value);
  if (match !== undefined || isPattern(value)) return match;
  const uri = value.startsWith('spiffe://') ? value : `spiffe://${value}`;
  try {
    parseSpiffeId(uri);
    return undefined;
  } catch (e) {
    const why = e instanceof SpiffeIdError ? e.message : String(e);
    return {
      code: 'invalid_principal',
      message: `"${value}" is not a SPIFFE ID (spiffe://td/ns/NS/sa/SA) or Istio principal (td/ns/NS/sa/SA): ${why}`,
    };
  }
};

/** An IPv4 or IPv6 address or CIDR block, in the strict dotted-quad form for IPv4. */
export const checkIpBlock: ValueCheck = (value) => {
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const valid =
    isStrictAddress(address) && (slash === -1 || (isPrefixLength(value.slice(slash + 1)) && ipaddr.isValidCIDR(value)));
  if (valid) return undefined;
  return { code: 'invalid_ip_block', message: `"${value}" is not an IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)` };
};

function isStrictAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || (text.includes(':') && ipaddr.IPv6.isValid(text));
}

function isPrefixLength(text: string): boolean {
  return /^(0|[1-9][0-9]{0,2})$/.test(text);
}

export function checkPort(value: string | number): ValueProblem | undefined {
  const text = String(value);
  const n = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (Number.isInteger(n) && n >= 1 && n <= 65535) return undefined;
  return { code: 'invalid_port', message: `${JSON.stringify(value)} is not a port: ports are integers 1..65535` };
}

const METHOD = /^[A-Z][A-Z0-9_-]*$/;

export const checkMethod: ValueCheck = (value) => {
  if (METHOD.test(value)) return undefined;
  const upper = value.toUpperCase();
  const hint = METHOD.test(upper)
    ? `: methods are case-sensitive, write "${upper}"`
    : ': expected an upper-case HTTP method such as GET';
  return { code: 'invalid_method', message: `"${value}" is not an HTTP method${hint}` };
};

/**
 * Requests are matched on their canonical host: lower case (normalized on load, as Istio
 * matches hosts case-insensitively), no port, no trailing dot. A port or a trailing dot in
 * a policy host could never match, so it is refused.
 */
export const checkHost: ValueCheck = (value) => {
  const match = checkStringMatch(value);
  if (match !== undefined) return match;
  if (/:[0-9]*$/.test(value) && !value.endsWith(']')) {
    return { code: 'invalid_host', message: `"${value}" has a port: hosts are matched without it, use ports for the port` };
  }
  if (value.endsWith('.')) {
    return { code: 'invalid_host', message: `"${value}" ends with ".": hosts are matched without the trailing dot` };
  }
  return undefined;
};
