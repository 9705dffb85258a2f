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

class PathIndex {
  readonly #trie = new PathTrie();
  readonly #anyPath = new RuleList();

  add(rule: CompiledRule): void {
    const methods = methodKeys(rule.source);
    const paths = pathKeys(rule.source);
    if (paths === undefined) return this.#anyPath.add(rule, methods);
    for (const path of paths) this.#trie.add(path, rule, methods);
  }

  collect(ctx: MatchContext, visitor: RuleVisitor): void {
    const { path, method } = ctx.request;
    this.#trie.collect(path, method, visitor);
    this.#anyPath.collect(method, visitor);
  }
}

export class RuleIndex {
  readonly #byPrincipal = new Map<string, PathIndex>();
  readonly #anyPrincipal = new PathIndex();
  #size = 0;

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
      if (index === undefined) this.#byPrincipal.set(principal, (index = new PathIndex()));
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
