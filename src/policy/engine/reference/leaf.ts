/**
 * The reference evaluator's only link to the compiled engine: the leaf matchers (string,
 * path, CIDR, principal normalization, port parsing), memoized per pattern. Everything
 * above the leaves is written again, naively, in this folder.
 */
import { parsePort } from '../compile-condition.js';
import { compileCidrs, parseRequestAddress } from '../matchers/cidr-match.js';
import { compilePathMatch } from '../matchers/path-match.js';
import { normalizePrincipalPattern } from '../matchers/principal-match.js';
import { compileStringMatch } from '../matchers/string-match.js';

export type LeafKind = 'string' | 'principal' | 'host' | 'path' | 'cidr' | 'port';

type Leaf = (value: string) => boolean;

const MEMO_LIMIT = 100_000;
const memo = new Map<string, Leaf>();

export function leafMatches(kind: LeafKind, pattern: string, value: string): boolean {
  const key = `${kind}\u0000${pattern}`;
  let leaf = memo.get(key);
  if (leaf === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, (leaf = buildLeaf(kind, pattern)));
  }
  return leaf(value);
}

function buildLeaf(kind: LeafKind, pattern: string): Leaf {
  switch (kind) {
    case 'string': return bind(compileStringMatch(pattern));
    case 'principal': return bind(compileStringMatch(normalizePrincipalPattern(pattern)));
    case 'host': return bind(compileStringMatch(pattern.toLowerCase()));
    case 'path': return bind(compilePathMatch(pattern));
    case 'cidr': {
      const blocks = compileCidrs([pattern]);
      return (value) => {
        const address = parseRequestAddress(value);
        return address !== undefined && blocks.matches(address);
      };
    }
    case 'port': {
      const port = parsePort(pattern);
      return (value) => Number(value) === port;
    }
  }
}

function bind(matcher: { matches(value: string): boolean }): Leaf {
  return (value) => matcher.matches(value);
}
