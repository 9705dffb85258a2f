/**
 * `reach`: who can get which requests allowed, computed from the policies with the engine's
 * semantics. For one destination: the enforced ALLOW rules that apply (or the default action
 * when none does: Istio's rule), each rule as conjunctions (from entry × to entry × when), one
 * per caller class; an enforced DENY conjunction that covers a grant removes it, one that may
 * meet part of it stays as an "unless". Every entry is then shown real by a witness request
 * the compiled tree allows; an entry without one is `unproven`, never silently dropped.
 */
import { tryParseSpiffeId, type PolicyRef } from '../../domain/index.js';
import type { Evaluator } from '../evaluation.js';
import type { EngineOptions, Policy, Rule } from '../model.js';
import { alwaysHolds, conjunctionsOf, kindOf, type Conjunction } from './clause.js';
import { contains } from './pattern.js';
import { conjunctionsConflict, relate } from './cover.js';
import { destinationKey, ScopeIndex } from './scope.js';
import { findWitness } from './witness.js';
import type { CallerClass, Clause, ReachDestination, ReachEntry, ReachQuery, ReachReport, Unless } from './types.js';

/** What reach needs: the policies, the engine options and the engine that enforces them. */
export interface ReachInput {
  readonly policies: readonly Policy[];
  readonly options: EngineOptions;
  readonly tree: Evaluator;
}

/** One way through an ALLOW rule (or the default action), with the DENYs that may cut into it. */
export interface Grant {
  readonly destination: ReachDestination;
  readonly clauses: Conjunction;
  readonly allowedBy?: PolicyRef;
  readonly unless: readonly Unless[];
}

export interface EntryLists {
  readonly entries: ReachEntry[];
  readonly unproven: ReachEntry[];
}

/** A grant before the DENYs are taken away. */
interface RawGrant {
  readonly clauses: Conjunction;
  readonly allowedBy?: PolicyRef;
}

/** What applies at one destination: the ALLOW grants as written and the DENYs that may cut them. */
interface Applied {
  readonly raw: readonly RawGrant[];
  readonly denies: readonly Unless[];
}

/** A rule's conjunctions, one per caller class: rules are frozen, so every Reach over them shares these. */
const CONJUNCTIONS = new WeakMap<Rule, readonly Conjunction[]>();

export class Reach {
  readonly #index: ScopeIndex;
  readonly #trustDomain: string;
  /** By destination: verify and blast radius ask about the same destinations many times. */
  readonly #applied = new Map<string, Applied>();
  readonly #grants = new Map<string, Grant[]>();
  #destinations: readonly ReachDestination[] | undefined;

  constructor(readonly input: ReachInput) {
    this.#index = new ScopeIndex(input.policies, input.options);
    this.#trustDomain = meshTrustDomain(input.policies);
  }

  destinations(): readonly ReachDestination[] {
    this.#destinations ??= this.#index.knownDestinations();
    return this.#destinations;
  }

  /** The enforced ALLOW and DENY policies that apply to `destination`. */
  applicable(destination: ReachDestination): readonly Policy[] {
    return this.#index.applicable(destination);
  }

  /** Every grant left at `destination` once covering DENYs are taken away. */
  grants(destination: ReachDestination): readonly Grant[] {
    const key = destinationKey(destination);
    let grants = this.#grants.get(key);
    if (grants === undefined) this.#grants.set(key, (grants = this.#cutAll(destination, key, [])));
    return grants;
  }

  /**
   * The entries of `destination`, each narrowed by `extra` (the question's own clauses, e.g.
   * "the caller is in namespace guest"): grants that cannot meet them are left out before any
   * DENY is weighed, the rest get a witness that meets them too.
   */
  entries(destination: ReachDestination, extra: Conjunction = []): EntryLists {
    const lists: EntryLists = { entries: [], unproven: [] };
    const grants = extra.length === 0 ? this.grants(destination) : this.#cutAll(destination, destinationKey(destination), extra);
    for (const grant of grants) {
      const entry = this.entryOf(grant, extra);
      (entry.witness === undefined ? lists.unproven : lists.entries).push(entry);
    }
    return lists;
  }

  entryOf(grant: Grant, extra: Conjunction = []): ReachEntry {
    const witness = findWitness(this.input.tree, grant.destination, [...grant.clauses, ...extra], grant.unless, this.#trustDomain);
    return { ...describe(grant), ...(witness ? { witness } : {}) };
  }

  #cutAll(destination: ReachDestination, key: string, extra: Conjunction): Grant[] {
    const { raw, denies } = this.#appliedAt(destination, key);
    const grants: Grant[] = [];
    for (const grant of raw) {
      if (extra.length > 0 && conjunctionsConflict(grant.clauses, extra)) continue;
      const left = cut(grant.clauses, denies);
      // Narrowing may have taken away just what the question asks about.
      if (left === undefined || (extra.length > 0 && left.clauses !== grant.clauses && conjunctionsConflict(left.clauses, extra))) continue;
      grants.push({ destination, ...grant, ...left });
    }
    return grants;
  }

  #appliedAt(destination: ReachDestination, key: string): Applied {
    let applied = this.#applied.get(key);
    if (applied !== undefined) return applied;
    const applicable = this.#index.applicable(destination);
    const denies = applicable.filter((p) => p.action === 'DENY').flatMap((p) => this.#unlessOf(p));
    const allows = applicable.filter((p) => p.action === 'ALLOW');
    const raw: RawGrant[] = allows.length > 0
      ? allows.flatMap((p) => p.rules.flatMap((rule, index) => conjunctionsByCaller(rule).map((clauses) => ({ clauses, allowedBy: { policy: p.id, rule: index } }))))
      : this.input.options.defaultAction === 'ALLOW' ? [{ clauses: [] }] : [];
    this.#applied.set(key, (applied = { raw, denies }));
    return applied;
  }

  #unlessOf(policy: Policy): Unless[] {
    return policy.rules.flatMap((rule, index) => conjunctionsOf(rule).map((clauses) => ({ rule: { policy: policy.id, rule: index }, clauses })));
  }
}

/**
 * The grant once the DENYs are taken away: undefined when one covers it whole; otherwise
 * narrowed where a DENY covers some of its values exactly (a `/debug/*` DENY takes `/debug/*`
 * out of an ALLOW's paths), with the DENYs that may still meet the rest as "unless".
 */
function cut(grant: Conjunction, denies: readonly Unless[]): { clauses: Conjunction; unless: Unless[] } | undefined {
  let clauses = grant;
  const unless: Unless[] = [];
  for (const deny of denies) {
    let relation = relate(clauses, deny.clauses);
    if (relation === 'partial') {
      const narrowed = narrow(clauses, deny.clauses);
      if (narrowed === undefined) return undefined;
      clauses = narrowed;
      relation = relate(clauses, deny.clauses);
    }
    if (relation === 'covers') return undefined;
    if (relation === 'partial') unless.push(deny);
  }
  return { clauses, unless };
}

/**
 * When a DENY holds wherever the grant holds except on one attribute, which it restricts to
 * some values, the grant's values on that attribute the DENY's contain are denied outright:
 * they are removed. Undefined when none is left (the DENY covers the grant).
 */
function narrow(grant: Conjunction, deny: Conjunction): Conjunction | undefined {
  const open = deny.filter((d) => !alwaysHolds(d) && relate(grant, [d]) !== 'covers');
  if (open.length !== 1 || open[0]!.values === undefined) return grant;
  const d = open[0]!;
  const kind = kindOf(d.attribute);
  const at = grant.findIndex((g) => g.attribute === d.attribute && g.values !== undefined);
  if (at < 0) return grant;
  const kept = grant[at]!.values!.filter((gv) => !d.values!.some((dv) => contains(kind, dv, gv)));
  if (kept.length === 0) return undefined;
  return grant.map((g, i) => (i === at ? { attribute: g.attribute, values: kept } : g));
}

/** The trust domain of the first SPIFFE ID a policy names exactly: the mesh's, for made-up callers. */
function meshTrustDomain(policies: readonly Policy[]): string {
  for (const policy of policies) {
    for (const rule of policy.rules) {
      for (const source of rule.from ?? []) {
        for (const principal of source.principals ?? []) {
          const id = principal.includes('*') ? undefined : tryParseSpiffeId(principal.startsWith('spiffe://') ? principal : `spiffe://${principal}`);
          if (id !== undefined) return id.trustDomain;
        }
      }
    }
  }
  return 'witness.example';
}

function conjunctionsByCaller(rule: Rule): readonly Conjunction[] {
  let list = CONJUNCTIONS.get(rule);
  if (list === undefined) CONJUNCTIONS.set(rule, (list = conjunctionsOf(rule).flatMap(byCaller)));
  return list;
}

/** One conjunction per caller class: principals OR-ed in one field become one grant each (else namespaces). */
function byCaller(clauses: Conjunction): Conjunction[] {
  const at = clauses.findIndex((c) => c.attribute === 'source.principal' && (c.values?.length ?? 0) > 1);
  const split = at >= 0 ? at : clauses.findIndex((c) => c.attribute === 'source.namespace' && (c.values?.length ?? 0) > 1);
  if (split < 0) return [clauses];
  const clause = clauses[split]!;
  return clause.values!.map((value) => clauses.map((c, i) => (i === split ? { attribute: c.attribute, values: [value] } : c)));
}

function describe(grant: Grant): Omit<ReachEntry, 'witness'> {
  const { caller, rest } = callerOf(grant.clauses);
  const methods = rest.find((c) => c.attribute === 'method' && c.values !== undefined);
  const paths = rest.find((c) => c.attribute === 'path' && c.values !== undefined);
  return {
    destination: grant.destination,
    caller,
    ...(methods ? { methods } : {}),
    ...(paths ? { paths } : {}),
    conditions: rest.filter((c) => c !== methods && c !== paths),
    ...(grant.allowedBy ? { allowedBy: grant.allowedBy } : {}),
    unless: grant.unless,
  };
}

/** The caller class a conjunction names, and the clauses left once it is said. */
function callerOf(clauses: Conjunction): { caller: CallerClass; rest: Clause[] } {
  const principal = clauses.find((c) => c.attribute === 'source.principal' && c.values?.length === 1);
  const namespace = clauses.find((c) => c.attribute === 'source.namespace' && c.values?.length === 1);
  const used = principal ?? namespace;
  const rest = clauses.filter((c) => c !== used);
  if (principal !== undefined) {
    const value = principal.values![0]!;
    if (value === '*') return { caller: { kind: 'authenticated' }, rest };
    return { caller: value.includes('*') ? { kind: 'principals', pattern: value } : { kind: 'principal', principal: value }, rest };
  }
  if (namespace !== undefined) return { caller: { kind: 'namespace', namespace: namespace.values![0]! }, rest };
  // Several values left after splitting (both principals and namespaces listed): the principals' own grants carry them.
  return { caller: { kind: 'anyone' }, rest };
}

/** The clauses that pin a caller: a SPIFFE ID, or no workload identity and no end user at all. */
export function callerClauses(principal: string | undefined): Conjunction {
  if (principal !== undefined) return [{ attribute: 'source.principal', values: [principal] }];
  return [
    { attribute: 'source.principal', notValues: ['*'] },
    { attribute: 'request.auth.principal', notValues: ['*'] },
  ];
}

/** The one entry point: `reach` for a destination, or for a caller over every destination a policy names. */
export function computeReach(input: ReachInput | Reach, query: ReachQuery): ReachReport {
  const reach = input instanceof Reach ? input : new Reach(input);
  if ('destination' in query) {
    const lists = reach.entries(query.destination);
    return { query, ...lists, destinations: [query.destination] };
  }
  const destinations = reach.destinations();
  const extra = callerClauses(query.caller.principal);
  const lists: EntryLists = { entries: [], unproven: [] };
  for (const destination of destinations) {
    const found = reach.entries(destination, extra);
    lists.entries.push(...found.entries);
    lists.unproven.push(...found.unproven);
  }
  return { query, ...lists, destinations };
}

/**
 * A caller as people write it: a SPIFFE ID (Istio's form without `spiffe://` too), or
 * `anonymous` / `unauthenticated` for no identity (undefined). A TypeError for anything else.
 */
export function normalizeCaller(text: string): string | undefined {
  if (text === 'anonymous' || text === 'unauthenticated') return undefined;
  const id = tryParseSpiffeId(text.startsWith('spiffe://') ? text : `spiffe://${text}`);
  if (id === undefined || text.includes('*')) throw new TypeError(`"${text}" is not a SPIFFE ID (spiffe://trust-domain/path), nor "anonymous"`);
  return id.uri;
}
