/**
 * How an enforced DENY conjunction stands to an ALLOW grant: it `covers` it (every request of
 * the grant matches the DENY: the grant is gone), is `disjoint` (no request matches both: the
 * DENY is irrelevant), or `partial` (reach keeps the grant with the DENY as an "unless").
 * Both proofs are sound, not complete: what is not proven is `partial`, and the witness search
 * with the real engine then decides whether anything of the grant is left.
 */
import { spiffeNamespace, tryParseSpiffeId } from '../../domain/index.js';
import { alwaysHolds, kindOf, type Conjunction } from './clause.js';
import { contains, disjoint } from './pattern.js';
import type { Clause } from './types.js';

export type DenyRelation = 'covers' | 'disjoint' | 'partial';

export function relate(grant: Conjunction, deny: Conjunction): DenyRelation {
  const known = withDerived(grant);
  if (deny.some((d) => known.some((g) => conflicts(g, d)))) return 'disjoint';
  if (deny.every((d) => alwaysHolds(d) || known.some((g) => implies(g, d)))) return 'covers';
  return 'partial';
}

/** Whether no request meets both conjunctions (proven). */
export function conjunctionsConflict(a: Conjunction, b: Conjunction): boolean {
  const known = withDerived(a);
  return withDerived(b).some((d) => known.some((g) => conflicts(g, d)));
}

/**
 * What a grant's clauses imply beyond themselves: exact principals say their namespace (a grant
 * for `ns/a/...` IDs is a grant for namespace a); a namespace needs a workload identity; a
 * claim, audience or presenter needs an end user.
 */
function withDerived(grant: Conjunction): Conjunction {
  let known = DERIVED.get(grant);
  if (known === undefined) DERIVED.set(grant, (known = derive(grant)));
  return known;
}

/** Conjunctions are kept (per rule, per question): each is worked out once. */
const DERIVED = new WeakMap<Conjunction, Conjunction>();

function derive(grant: Conjunction): Conjunction {
  const derived: Clause[] = [];
  for (const clause of grant) {
    if (clause.values === undefined) continue;
    if (clause.attribute === 'source.principal') {
      const namespaces = clause.values.map((p) => (p.includes('*') ? undefined : namespaceOf(p)));
      if (namespaces.every((n): n is string => n !== undefined)) derived.push({ attribute: 'source.namespace', values: [...new Set(namespaces)] });
    }
    if (clause.attribute === 'source.namespace') derived.push(PRESENT_IDENTITY);
    if (clause.attribute.startsWith('request.auth.claims') || clause.attribute === 'request.auth.audiences' || clause.attribute === 'request.auth.presenter') derived.push(PRESENT_USER);
  }
  return derived.length === 0 ? grant : [...grant, ...derived];
}

const PRESENT_IDENTITY: Clause = Object.freeze({ attribute: 'source.principal', values: Object.freeze(['*']) });
const PRESENT_USER: Clause = Object.freeze({ attribute: 'request.auth.principal', values: Object.freeze(['*']) });

// Principals repeat across every grant and question: each is parsed once (bounded, cleared when full).
const NAMESPACES = new Map<string, string | undefined>();
const NAMESPACE_MEMO_LIMIT = 100_000;

function namespaceOf(principal: string): string | undefined {
  if (NAMESPACES.has(principal)) return NAMESPACES.get(principal);
  const id = tryParseSpiffeId(principal);
  const namespace = id && spiffeNamespace(id);
  if (NAMESPACES.size >= NAMESPACE_MEMO_LIMIT) NAMESPACES.clear();
  NAMESPACES.set(principal, namespace);
  return namespace;
}

/** Attributes that can hold several values at once (a list claim, the audiences). */
function multiValued(attribute: string): boolean {
  return attribute.startsWith('request.auth.claims') || attribute === 'request.auth.audiences';
}

/** Every request meeting `g` meets `d` (same attribute). */
function implies(g: Clause, d: Clause): boolean {
  if (g.attribute !== d.attribute) return false;
  const kind = kindOf(g.attribute);
  if (d.values !== undefined) return g.values !== undefined && g.values.every((gv) => d.values!.some((dv) => contains(kind, dv, gv)));
  const denied = d.notValues!;
  if (g.notValues !== undefined) return denied.every((dn) => g.notValues!.some((gn) => contains(kind, gn, dn)));
  if (multiValued(g.attribute)) return false;
  return g.values!.every((gv) => denied.every((dn) => disjoint(kind, gv, dn)));
}

/** No request meets both `g` and `d` (same attribute). */
function conflicts(g: Clause, d: Clause): boolean {
  if (g.attribute !== d.attribute) return false;
  const kind = kindOf(g.attribute);
  if (g.values !== undefined && d.values !== undefined) {
    return !multiValued(g.attribute) && g.values.every((gv) => d.values!.every((dv) => disjoint(kind, gv, dv)));
  }
  if (g.values !== undefined) return g.values.every((gv) => d.notValues!.some((dn) => contains(kind, dn, gv)));
  if (d.values !== undefined) return d.values.every((dv) => g.notValues!.some((gn) => contains(kind, gn, dv)));
  return false;
}
