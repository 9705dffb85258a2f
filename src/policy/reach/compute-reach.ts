/**
 * `reach`: who can get which requests allowed, computed from the policies with the engine's
 * semantics. For one destination: the enforced ALLOW rules that apply (or the default action
 * when none does: Istio's rule), each rule as conjunctions (from entry × to entry × when), one
 * per caller class; an enforced DENY conjunction that covers a grant removes it, one that may
 * meet part of it stays as an "unless". Every entry is then shown real by a witness request
 * the compiled tree allows; an entry without one is `unproven`, never silently dropped.
 */
import type { PolicyRef } from '../../domain/index.js';
import type { Evaluator } from '../evaluation.js';
import { withTrustDomainAliases } from '../engine/trust-domain-aliases.js';
import type { EngineOptions, Policy, Rule } from '../model.js';
import { callerClauses, meshTrustDomain } from './caller.js';
import { conjunctionsOf, type Conjunction } from './clause.js';
import { conjunctionsConflict } from './cover.js';
import { describe } from './describe-entry.js';
import { cut } from './subtract.js';
import { destinationKey, ScopeIndex } from './scope.js';
import { findWitness } from './witness.js';
import type { ReachDestination, ReachEntry, ReachQuery, ReachReport, Unless } from './types.js';

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
    // Aliases widen the policies as the compiled tree does, so a caller in an aliased domain is
    // reported where the tree would allow it; the mesh's own domain is read from what was written.
    this.#index = new ScopeIndex(withTrustDomainAliases(input.policies, input.options.trustDomainAliases), input.options);
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

