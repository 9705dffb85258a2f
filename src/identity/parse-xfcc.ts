/**
 * Parses Envoy's `x-forwarded-client-cert` header: elements separated by ",", key=value pairs
 * by ";", values double-quoted when they hold , ; or = (with \" inside quotes). Keys: By, Hash,
 * Cert, Chain, Subject, URI, DNS (case-insensitive). Anything else is refused: the header
 * carries identity, so a value we cannot read exactly is a value we must not use.
 */
import { IdentityError } from './errors.js';

export interface XfccElement {
  readonly by: readonly string[];
  readonly hash?: string;
  /** URL-encoded PEM of the client certificate. */
  readonly cert?: string;
  /** URL-encoded PEM of the client certificate chain. */
  readonly chain?: string;
  readonly subject?: string;
  readonly uri: readonly string[];
  readonly dns: readonly string[];
}

type SingleKey = 'hash' | 'cert' | 'chain' | 'subject';
type ListKey = 'by' | 'uri' | 'dns';

const KEYS: Readonly<Record<string, SingleKey | ListKey>> = {
  by: 'by',
  hash: 'hash',
  cert: 'cert',
  chain: 'chain',
  subject: 'subject',
  uri: 'uri',
  dns: 'dns',
};

interface MutableElement {
  by: string[];
  uri: string[];
  dns: string[];
  hash?: string;
  cert?: string;
  chain?: string;
  subject?: string;
}

/** Elements in header order: the last one was appended by the proxy nearest to us. */
export function parseXfcc(header: string): XfccElement[] {
  const elements: XfccElement[] = [];
  let element = emptyElement();
  let at = 0;
  while (at <= header.length) {
    const pair = readPair(header, at);
    addPair(element, pair.key, pair.value);
    at = pair.end + 1;
    if (pair.separator !== ';') {
      elements.push(Object.freeze(element));
      element = emptyElement();
    }
  }
  return elements;
}

function emptyElement(): MutableElement {
  return { by: [], uri: [], dns: [] };
}

function malformed(message: string): never {
  throw new IdentityError('ERR_XFCC_MALFORMED', 'xfcc', `x-forwarded-client-cert: ${message}`);
}

function addPair(element: MutableElement, rawKey: string, value: string): void {
  const key = KEYS[rawKey.trim().toLowerCase()];
  if (key === undefined) malformed(`unknown key "${rawKey.slice(0, 32)}"`);
  if (key === 'by' || key === 'uri' || key === 'dns') {
    element[key].push(value);
    return;
  }
  if (element[key] !== undefined) malformed(`key "${key}" repeated in one element`);
  element[key] = value;
}

/** Reads `key=value` from `at`; `end` is the index of the separator (or header.length). */
function readPair(header: string, at: number): { key: string; value: string; end: number; separator: string | undefined } {
  const equals = header.indexOf('=', at);
  if (equals === -1) malformed('pair without "="');
  const key = header.slice(at, equals);
  if (key.length === 0 || /[,;"]/.test(key)) malformed('empty or invalid key');
  const read = header[equals + 1] === '"' ? readQuoted(header, equals + 2) : readBare(header, equals + 1);
  const separator = header[read.end];
  if (separator !== undefined && separator !== ';' && separator !== ',') malformed('text after a quoted value');
  return { key, value: read.value, end: read.end, separator };
}

function readBare(header: string, at: number): { value: string; end: number } {
  let end = at;
  while (end < header.length && header[end] !== ';' && header[end] !== ',') {
    if (header[end] === '"' || header[end] === '=') malformed('unquoted value holds a quote or "="');
    end++;
  }
  return { value: header.slice(at, end), end };
}

function readQuoted(header: string, at: number): { value: string; end: number } {
  let value = '';
  for (let i = at; i < header.length; i++) {
    const c = header[i] as string;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      const next = header[i + 1];
      if (next === undefined) break;
      value += next;
      i++;
    } else {
      value += c;
    }
  }
  return malformed('unterminated quoted value');
}
