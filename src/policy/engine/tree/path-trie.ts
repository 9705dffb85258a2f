/**
 * A segment trie over the path patterns an index can narrow on: exact paths, prefixes
 * starting with `/`, and templates. It over-approximates (a prefix `/a/b*` is filed at
 * `/a/` and offered for every path below it); each candidate's own matcher decides.
 */
import { isPathTemplate, parsePathTemplate } from '../matchers/path-match.js';
import type { CompiledRule, RuleVisitor } from './compiled-rule.js';
import { RuleList } from './rule-list.js';

class TrieNode {
  children: Map<string, TrieNode> | undefined;
  wildcard: TrieNode | undefined;
  /** Paths ending exactly at this node. */
  exact: RuleList | undefined;
  /** Prefix patterns whose last whole segment is this node. */
  prefix: RuleList | undefined;
  /** `{**}` after this node: one or more further segments. */
  rest: RuleList | undefined;

  child(segment: string): TrieNode {
    this.children ??= new Map();
    let next = this.children.get(segment);
    if (next === undefined) this.children.set(segment, (next = new TrieNode()));
    return next;
  }
}

/** Whether the trie can file this pattern; others go to the index's any-path list. */
export function isTrieable(pattern: string): boolean {
  if (!pattern.startsWith('/')) return false;
  const star = pattern.indexOf('*');
  return isPathTemplate(pattern) || star === -1 || star === pattern.length - 1;
}

export class PathTrie {
  readonly #root = new TrieNode();

  add(pattern: string, candidate: CompiledRule, methods: readonly string[] | undefined): void {
    listAt(this.#root, pattern).add(candidate, methods);
  }

  collect(path: string, method: string, visitor: RuleVisitor): void {
    if (path.startsWith('/')) collectFrom(this.#root, path, 1, method, visitor);
  }
}

function listAt(root: TrieNode, pattern: string): RuleList {
  if (isPathTemplate(pattern)) {
    let node = root;
    for (const segment of parsePathTemplate(pattern)) {
      if (segment.kind === 'rest') return (node.rest ??= new RuleList());
      node = segment.kind === 'one' ? (node.wildcard ??= new TrieNode()) : node.child(segment.text);
    }
    return (node.exact ??= new RuleList());
  }
  const isPrefix = pattern.endsWith('*');
  const segments = (isPrefix ? pattern.slice(1, -1) : pattern.slice(1)).split('/');
  // A prefix's last segment is partial: file it at the last whole one.
  if (isPrefix) segments.pop();
  const node = segments.reduce((at, segment) => at.child(segment), root);
  return isPrefix ? (node.prefix ??= new RuleList()) : (node.exact ??= new RuleList());
}

/** `start` is the index just after a `/`; walks literal and `{*}` branches both. */
function collectFrom(node: TrieNode, path: string, start: number, method: string, visitor: RuleVisitor): void {
  node.prefix?.collect(method, visitor);
  if (node.rest !== undefined && start < path.length) node.rest.collect(method, visitor);
  const slash = path.indexOf('/', start);
  const end = slash === -1 ? path.length : slash;
  const literal = node.children?.get(path.slice(start, end));
  if (literal !== undefined) descend(literal, path, slash, method, visitor);
  if (node.wildcard !== undefined && end > start) descend(node.wildcard, path, slash, method, visitor);
}

function descend(node: TrieNode, path: string, slash: number, method: string, visitor: RuleVisitor): void {
  if (slash === -1) node.exact?.collect(method, visitor);
  else collectFrom(node, path, slash + 1, method, visitor);
}
