/**
 * The candidate rules of one destination bucket, narrowed by the attributes that
 * partition usual policy sets: exact source principal, then path (trie), then method.
 * A rule is filed under every key it could match and under "any" where it names none,
 * so the index can only drop rules that cannot match.
 */
import type { Rule } from '../../model.js';
import { isSet } from '../compile-site.js';
import type { MatchContext } from '../matchers/match-context.js';
import { normalizePrincipalPattern } from '../matchers/principal-match.js';
import type { CompiledRule, RuleVisitor } from './compiled-rule.js';
import { isTrieable, PathTrie } from './path-trie.js';
import { RuleList } from './rule-list.js';

/**
 * Below SMALL rules a plain list is faster to scan and far smaller than a trie: most
 * per-principal indexes hold one or two rules. Past it, the rules move into a trie.
 */
export const SMALL_LIST = 8;

class PathIndex {
  #small: CompiledRule[] | undefined = [];

  constructor(readonly smallList: number) {}

  #trie: PathTrie | undefined;
  #anyPath: RuleList | undefined;

  add(rule: CompiledRule): void {
    const small = this.#small;
    if (small === undefined) return this.#addIndexed(rule);
    if (small[small.length - 1] !== rule) small.push(rule);
    if (small.length <= this.smallList) return;
    this.#small = undefined;
    for (const each of small) this.#addIndexed(each);
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const small = this.#small;
    if (small !== undefined) {
      for (const rule of small) visitor.consider(rule);
      return;
    }
    const { path, method } = ctx.request;
    this.#trie?.collect(path, method, visitor);
    this.#anyPath?.collect(method, visitor);
  }

  #addIndexed(rule: CompiledRule): void {
    const methods = methodKeys(rule.source);
    const paths = pathKeys(rule.source);
    if (paths === undefined) return (this.#anyPath ??= new RuleList()).add(rule, methods);
    const trie = (this.#trie ??= new PathTrie());
    for (const path of paths) trie.add(path, rule, methods);
  }
}

export class RuleIndex {
  readonly #byPrincipal = new Map<string, PathIndex>();
  readonly #anyPrincipal: PathIndex;
  #size = 0;

  /** `smallList`: rules per path index kept as a plain list before a trie is built. */
  constructor(readonly smallList = SMALL_LIST) {
    this.#anyPrincipal = new PathIndex(smallList);
  }

  get size(): number {
    return this.#size;
  }

  get principalKeys(): number {
    return this.#byPrincipal.size;
  }

  add(rule: CompiledRule): void {
    this.#size += 1;
    const principals = principalKeys(rule.source);
    if (principals === undefined) return this.#anyPrincipal.add(rule);
    for (const principal of principals) {
      let index = this.#byPrincipal.get(principal);
      if (index === undefined) this.#byPrincipal.set(principal, (index = new PathIndex(this.smallList)));
      index.add(rule);
    }
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const principal = ctx.sourcePrincipal;
    if (principal !== undefined) this.#byPrincipal.get(principal)?.collect(ctx, visitor);
    this.#anyPrincipal.collect(ctx, visitor);
  }
}

/** The exact principals a rule needs, when every `from` entry names only exact ones. */
function principalKeys(rule: Rule): readonly string[] | undefined {
  if (!isSet(rule.from)) return undefined;
  const keys = new Set<string>();
  for (const source of rule.from) {
    if (!isSet(source.principals)) return undefined;
    for (const pattern of source.principals) {
      const full = normalizePrincipalPattern(pattern);
      if (full.includes('*')) return undefined;
      keys.add(full);
    }
  }
  return [...keys];
}

function pathKeys(rule: Rule): readonly string[] | undefined {
  return operationKeys(rule, (o) => o.paths, isTrieable);
}

function methodKeys(rule: Rule): readonly string[] | undefined {
  return operationKeys(rule, (o) => o.methods, (m) => !m.includes('*'));
}

/** The union of one field over every `to` entry, when each entry sets it with indexable values. */
function operationKeys(
  rule: Rule,
  field: (operation: NonNullable<Rule['to']>[number]) => readonly string[] | undefined,
  indexable: (value: string) => boolean,
): readonly string[] | undefined {
  if (!isSet(rule.to)) return undefined;
  const keys = new Set<string>();
  for (const operation of rule.to) {
    const values = field(operation);
    if (!isSet(values) || !values.every(indexable)) return undefined;
    for (const value of values) keys.add(value);
  }
  return [...keys];
}
