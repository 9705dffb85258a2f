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
import { RuleList, visitAll } from './rule-list.js';

/**
 * Below SMALL rules a plain list is faster to scan and far smaller than a trie: most
 * per-principal indexes hold one or two rules. Past it, the rules move into a trie.
 */
export const SMALL_LIST = 8;

class PathIndex {
  #small: CompiledRule[] | undefined = [];
  #trie: PathTrie | undefined;
  #anyPath: RuleList | undefined;

  constructor(readonly smallList: number) {}

  add(candidate: CompiledRule): void {
    const small = this.#small;
    if (small === undefined) return this.#addIndexed(candidate);
    if (small[small.length - 1] !== candidate) small.push(candidate);
    if (small.length <= this.smallList) return;
    this.#small = undefined;
    for (const each of small) this.#addIndexed(each);
  }

  /** The plain list while the index is small (then the principal table takes it). */
  get list(): CompiledRule[] | undefined {
    return this.#small;
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const small = this.#small;
    if (small !== undefined) return visitAll(small, visitor);
    const { path, method } = ctx.request;
    this.#trie?.collect(path, method, visitor);
    this.#anyPath?.collect(method, visitor);
  }

  #addIndexed(candidate: CompiledRule): void {
    const { methods, paths } = candidate.keys;
    if (paths === undefined) return (this.#anyPath ??= new RuleList()).add(candidate, methods);
    const trie = (this.#trie ??= new PathTrie());
    for (const path of paths) trie.add(path, candidate, methods);
  }
}

export class RuleIndex {
  #byPrincipal: Map<string, PathIndex> | undefined;
  #anyPrincipal: PathIndex | undefined;
  #size = 0;

  /** `smallList`: rules per path index kept as a plain list before a trie is built. */
  constructor(readonly smallList = SMALL_LIST) {}

  get size(): number {
    return this.#size;
  }

  get principalKeys(): number {
    return this.#byPrincipal?.size ?? 0;
  }

  add(rule: CompiledRule): void {
    this.#size += 1;
    const principals = rule.keys.principals;
    if (principals === undefined) {
      if (rule.principalImplied) throw new Error('RuleIndex: a rule without principal keys must carry its from');
      const index = (this.#anyPrincipal = pathIndex(this.#anyPrincipal, this.smallList));
      return index.add(rule);
    }
    const byPrincipal = (this.#byPrincipal ??= new Map());
    const candidate = rule;
    for (const principal of principals) {
      const index = pathIndex(byPrincipal.get(principal), this.smallList);
      byPrincipal.set(principal, index);
      index.add(candidate);
    }
  }

  /**
   * Done adding: every list that stayed small goes to `take` (principal undefined: the
   * any-principal list) and leaves this index, which keeps only what needs a trie.
   */
  seal(take: (principal: string | undefined, list: readonly CompiledRule[]) => void): void {
    const any = this.#anyPrincipal;
    if (any?.list !== undefined) {
      take(undefined, any.list);
      this.#anyPrincipal = undefined;
    }
    const byPrincipal = this.#byPrincipal;
    if (byPrincipal === undefined) return;
    for (const [principal, index] of byPrincipal) {
      const list = index.list;
      if (list === undefined) continue;
      take(principal, list);
      byPrincipal.delete(principal);
    }
    if (byPrincipal.size === 0) this.#byPrincipal = undefined;
  }

  /** Whether anything is left to collect here after sealing. */
  get isEmpty(): boolean {
    return this.#byPrincipal === undefined && this.#anyPrincipal === undefined;
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const principal = ctx.sourcePrincipal;
    if (principal !== undefined && this.#byPrincipal !== undefined) {
      const found = this.#byPrincipal.get(principal);
      if (found !== undefined) found.collect(ctx, visitor);
    }
    if (this.#anyPrincipal !== undefined) this.#anyPrincipal.collect(ctx, visitor);
  }
}

function pathIndex(existing: PathIndex | undefined, smallList: number): PathIndex {
  return existing ?? new PathIndex(smallList);
}
