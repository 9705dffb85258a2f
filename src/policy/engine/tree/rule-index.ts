/**
 * The candidate rules of one destination bucket, narrowed by the attributes that
 * partition usual policy sets: exact source principal, then path (trie), then method.
 * A rule is filed under every key it could match and under "any" where it names none,
 * so the index can only drop rules that cannot match. A rule filed by principal carries
 * a matcher that may leave its principals to the index (CompiledRule.principalImplied).
 */
import type { MatchContext } from '../matchers/match-context.js';
import type { CompiledRule, RuleVisitor } from './compiled-rule.js';
import { PathTrie } from './path-trie.js';
import { RuleList } from './rule-list.js';
import { methodKeys, pathKeys } from './index-keys.js';

/**
 * Below SMALL rules a plain list is faster to scan and far smaller than a trie: most
 * per-principal indexes hold one or two rules. Past it, the rules move into a trie.
 */
export const SMALL_LIST = 8;

/** Rules past the small-list size for one principal: a path trie, then method lists. */
class PathIndex {
  #trie: PathTrie | undefined;
  #anyPath: RuleList | undefined;

  constructor(rules: readonly CompiledRule[]) {
    for (const rule of rules) this.#add(rule);
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const { path, method } = ctx.request;
    this.#trie?.collect(path, method, visitor);
    this.#anyPath?.collect(method, visitor);
  }

  #add(rule: CompiledRule): void {
    const methods = methodKeys(rule.source);
    const paths = pathKeys(rule.source);
    if (paths === undefined) return (this.#anyPath ??= new RuleList()).add(rule, methods);
    const trie = (this.#trie ??= new PathTrie());
    for (const path of paths) trie.add(path, rule, methods);
  }
}

/**
 * Rules are gathered per principal (and for any principal) while a bucket is built; on
 * sealing, the lists that stayed small go to the principal table and the rest become
 * path indexes here.
 */
/** A lone rule, or several: most principals of a bucket have one, and an array each adds up. */
export type Rules = CompiledRule | CompiledRule[];

export class RuleIndex {
  #lists: Map<string, Rules> | undefined = new Map();
  #anyList: CompiledRule[] | undefined = [];
  #byPrincipal: Map<string, PathIndex> | undefined;
  #anyPrincipal: PathIndex | undefined;

  /** `smallList`: rules per principal kept as a plain list rather than a trie. */
  constructor(readonly smallList = SMALL_LIST) {}

  add(rule: CompiledRule): void {
    const principals = rule.principalKeys;
    if (principals === undefined) {
      if (rule.principalImplied) throw new Error('RuleIndex: a rule without principal keys must carry its from');
      return pushOnce(this.#anyList!, rule);
    }
    const lists = this.#lists!;
    for (let i = 0; i < principals.length; i += 1) {
      const principal = principals[i]!;
      const found = lists.get(principal);
      if (found === undefined) lists.set(principal, rule);
      else if (Array.isArray(found)) pushOnce(found, rule);
      else if (found !== rule) lists.set(principal, [found, rule]);
    }
  }

  /**
   * Done adding: every list that stayed small goes to `take` (principal undefined: the
   * any-principal list); longer ones become path indexes, which this index keeps.
   */
  seal(take: (principal: string | undefined, rules: Rules) => void): void {
    const any = this.#anyList!;
    if (any.length > this.smallList) this.#anyPrincipal = new PathIndex(any);
    else if (any.length > 0) take(undefined, any.length === 1 ? any[0]! : any);
    this.#lists!.forEach((rules, principal) => {
      const count = Array.isArray(rules) ? rules.length : 1;
      if (count <= this.smallList) take(principal, rules);
      else (this.#byPrincipal ??= new Map()).set(principal, new PathIndex(Array.isArray(rules) ? rules : [rules]));
    });
    this.#lists = this.#anyList = undefined;
  }

  /** Whether anything is left to collect here after sealing. */
  get isEmpty(): boolean {
    return this.#byPrincipal === undefined && this.#anyPrincipal === undefined;
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const principal = ctx.sourcePrincipal;
    if (principal !== undefined && this.#byPrincipal !== undefined) this.#byPrincipal.get(principal)?.collect(ctx, visitor);
    this.#anyPrincipal?.collect(ctx, visitor);
  }
}

/** Rules arrive in ordinal order, so a repeat is always the last element. */
function pushOnce(list: CompiledRule[], rule: CompiledRule): void {
  if (list[list.length - 1] !== rule) list.push(rule);
}
