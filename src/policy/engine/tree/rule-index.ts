/**
 * The candidate rules of one destination bucket, narrowed by the attributes that
 * partition usual policy sets: exact source principal, then path (trie), then method.
 * A rule is filed under every key it could match and under "any" where it names none,
 * so the index can only drop rules that cannot match. A rule filed by principal carries
 * the matcher left once its principal is known (CompiledRule.givenPrincipal).
 */
import type { MatchContext } from '../matchers/match-context.js';
import { Candidate, type CompiledRule, type RuleVisitor } from './compiled-rule.js';
import { PathTrie } from './path-trie.js';
import { RuleList, visitAll } from './rule-list.js';

/**
 * Below SMALL rules a plain list is faster to scan and far smaller than a trie: most
 * per-principal indexes hold one or two rules. Past it, the rules move into a trie.
 */
export const SMALL_LIST = 8;

class PathIndex {
  #small: Candidate[] | undefined = [];
  #trie: PathTrie | undefined;
  #anyPath: RuleList | undefined;

  constructor(readonly smallList: number) {}

  add(candidate: Candidate): void {
    const small = this.#small;
    if (small === undefined) return this.#addIndexed(candidate);
    if (small[small.length - 1] !== candidate) small.push(candidate);
    if (small.length <= this.smallList) return;
    this.#small = undefined;
    for (const each of small) this.#addIndexed(each);
  }

  /** The plain list while the index is small: its bucket holds that instead of this. */
  get list(): Candidate[] | undefined {
    return this.#small;
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const small = this.#small;
    if (small !== undefined) return visitAll(small, visitor);
    const { path, method } = ctx.request;
    this.#trie?.collect(path, method, visitor);
    this.#anyPath?.collect(method, visitor);
  }

  #addIndexed(candidate: Candidate): void {
    const { methods, paths } = candidate.rule.keys;
    if (paths === undefined) return (this.#anyPath ??= new RuleList()).add(candidate, methods);
    const trie = (this.#trie ??= new PathTrie());
    for (const path of paths) trie.add(path, candidate, methods);
  }
}

/** A path index, or its plain list once building is done and it stayed small (one hop less). */
type Candidates = PathIndex | readonly Candidate[];

export class RuleIndex {
  #byPrincipal: Map<string, Candidates> | undefined;
  #anyPrincipal: Candidates | undefined;
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
      const index = (this.#anyPrincipal = pathIndex(this.#anyPrincipal, this.smallList));
      return index.add(new Candidate(rule, rule.matcher));
    }
    const byPrincipal = (this.#byPrincipal ??= new Map());
    const candidate = new Candidate(rule, rule.givenPrincipal ?? rule.matcher);
    for (const principal of principals) {
      const index = pathIndex(byPrincipal.get(principal), this.smallList);
      byPrincipal.set(principal, index);
      index.add(candidate);
    }
  }

  /** Done adding: small path indexes become their plain lists. */
  seal(): void {
    if (this.#anyPrincipal instanceof PathIndex) this.#anyPrincipal = this.#anyPrincipal.list ?? this.#anyPrincipal;
    if (this.#byPrincipal === undefined) return;
    for (const [key, index] of this.#byPrincipal) if (index instanceof PathIndex) this.#byPrincipal.set(key, index.list ?? index);
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const principal = ctx.sourcePrincipal;
    if (principal !== undefined && this.#byPrincipal !== undefined) {
      const found = this.#byPrincipal.get(principal);
      if (found !== undefined) visit(found, ctx, visitor);
    }
    if (this.#anyPrincipal !== undefined) visit(this.#anyPrincipal, ctx, visitor);
  }
}

function pathIndex(existing: Candidates | undefined, smallList: number): PathIndex {
  if (existing instanceof PathIndex) return existing;
  if (existing !== undefined) throw new Error('RuleIndex: add after seal');
  return new PathIndex(smallList);
}

function visit(candidates: Candidates, ctx: MatchContext, visitor: RuleVisitor): void {
  if (candidates instanceof PathIndex) candidates.collect(ctx, visitor);
  else visitAll(candidates, visitor);
}
