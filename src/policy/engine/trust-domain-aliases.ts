/**
 * Trust-domain aliases, for a migration between trust domains (Istio's trustDomainAliases):
 * with `{ "cluster.local": ["old-td.example"] }`, a principal written for
 * `spiffe://cluster.local/ns/a/sa/b` also matches `spiffe://old-td.example/ns/a/sa/b`. Only as
 * configured, one level deep, from the key's domain to its aliases; a principal written for
 * the alias domain itself keeps matching that domain only.
 *
 * Where it happens, and why there: the policies are expanded once per compile, before the tree
 * and the reference evaluator see them, rather than the Subject being rewritten per request.
 * - Fast: the alias patterns are ordinary principals, indexed by the principal table like any
 *   other; a Check does no alias work, and the decision cache keys on the presented ID as
 *   before (each ID its own entries, both computed by the same tree).
 * - Exact: each pattern gains exactly the patterns its aliases imply, for every pattern shape
 *   (exact, `prefix*`, `*suffix`), in `principals`, `notPrincipals` and `source.principal`
 *   conditions alike, in ALLOW, DENY and AUDIT rules alike. So an alias can only make a rule
 *   written for the key's domain reach the aliased twin of a caller: a DENY reaches it too,
 *   and a migration never opens a hole that the canonical domain did not have. Rewriting the
 *   Subject instead would make rules written for the old domain stop matching its callers.
 * - The Subject keeps the presented SPIFFE ID: decision logs, the upstream header and explain
 *   show who really called.
 * An aliased domain must still be trusted by identity/ (a bundle) for its callers to verify.
 */
import { tryParseSpiffeId } from '../../domain/index.js';
import type { Condition, Policy, Rule, Source } from '../model.js';

/** Aliases by the domain the policies name (validated at start-up by identity/ options). */
export type TrustDomainAliases = Readonly<Record<string, readonly string[]>>;

const SCHEME = 'spiffe://';

/** The policies with every principal pattern widened to its aliases; the same array when there are none. */
export function withTrustDomainAliases(policies: readonly Policy[], aliases: TrustDomainAliases | undefined): readonly Policy[] {
  if (aliases === undefined || Object.keys(aliases).length === 0) return policies;
  const table = new Map(Object.entries(aliases));
  const widen = (patterns: readonly string[] | undefined) => (patterns === undefined ? undefined : widenPrincipals(patterns, table));
  return policies.map((policy) => Object.freeze({ ...policy, rules: Object.freeze(policy.rules.map((rule) => widenRule(rule, widen))) }));
}

type Widen = (patterns: readonly string[] | undefined) => readonly string[] | undefined;

function widenRule(rule: Rule, widen: Widen): Rule {
  return Object.freeze({
    ...rule,
    ...(rule.from === undefined ? {} : { from: Object.freeze(rule.from.map((source) => widenSource(source, widen))) }),
    ...(rule.when === undefined ? {} : { when: Object.freeze(rule.when.map((condition) => widenCondition(condition, widen))) }),
  });
}

function widenSource(source: Source, widen: Widen): Source {
  return Object.freeze({
    ...source,
    ...(source.principals === undefined ? {} : { principals: widen(source.principals) }),
    ...(source.notPrincipals === undefined ? {} : { notPrincipals: widen(source.notPrincipals) }),
  });
}

function widenCondition(condition: Condition, widen: Widen): Condition {
  if (condition.key !== 'source.principal') return condition;
  return Object.freeze({
    ...condition,
    ...(condition.values === undefined ? {} : { values: widen(condition.values) }),
    ...(condition.notValues === undefined ? {} : { notValues: widen(condition.notValues) }),
  });
}

/** The patterns as written, then the alias patterns they imply, each once. */
export function widenPrincipals(patterns: readonly string[], aliases: ReadonlyMap<string, readonly string[]>): readonly string[] {
  const widened = new Set(patterns);
  for (const pattern of patterns) for (const alias of aliasPatterns(pattern, aliases)) widened.add(alias);
  return Object.freeze([...widened]);
}

/** The patterns that match the aliased twin of every ID `pattern` matches in an aliased domain. */
function aliasPatterns(pattern: string, aliases: ReadonlyMap<string, readonly string[]>): string[] {
  if (pattern === '*') return []; // presence: matches every caller already
  if (pattern.startsWith('*')) return suffixAliases(pattern.slice(1), aliases);
  const body = pattern.startsWith(SCHEME) ? pattern.slice(SCHEME.length) : pattern; // Istio writes no scheme
  const prefix = body.endsWith('*');
  const text = prefix ? body.slice(0, -1) : body;
  if (text.includes('*')) return []; // the compiler refuses a '*' elsewhere
  const slash = text.indexOf('/');
  if (slash === -1) return prefix ? domainPrefixAliases(text, aliases) : [];
  const rest = text.slice(slash) + (prefix ? '*' : '');
  return (aliases.get(text.slice(0, slash)) ?? []).map((alias) => `${SCHEME}${alias}${rest}`);
}

/** `spiffe://clus*`: every ID of every aliased domain it covers, so every ID of their aliases. */
function domainPrefixAliases(start: string, aliases: ReadonlyMap<string, readonly string[]>): string[] {
  return [...aliases].filter(([domain]) => domain.startsWith(start)).flatMap(([, list]) => list.map((alias) => `${SCHEME}${alias}/*`));
}

/**
 * `*suffix`: where the suffix lies within the path, the twin in an alias domain ends with it as
 * well. Where it reaches back into the domain (`*local/ns/a/sa/b`), it matches one path of that
 * domain only; its twin in each alias is added as an exact ID.
 */
function suffixAliases(suffix: string, aliases: ReadonlyMap<string, readonly string[]>): string[] {
  const twins: string[] = [];
  for (const [domain, list] of aliases) {
    const head = SCHEME + domain;
    for (let cut = 1; cut <= suffix.length; cut += 1) {
      const path = suffix.slice(cut);
      if (!head.endsWith(suffix.slice(0, cut)) || (path !== '' && !path.startsWith('/'))) continue;
      for (const alias of list) {
        const twin = SCHEME + alias + path;
        if (!twin.endsWith(suffix) && tryParseSpiffeId(twin) !== undefined) twins.push(twin);
      }
    }
  }
  return twins;
}
