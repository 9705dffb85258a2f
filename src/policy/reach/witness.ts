/**
 * A witness: a concrete request inside a grant that the enforcing engine (the compiled tree)
 * allows. Each attribute the grant, its "unless" DENYs or the question name gets a few
 * candidate values (instances of every pattern written for it, a fresh value, absence), kept
 * only where the grant's own clauses hold; combinations are tried, those least likely to meet a
 * DENY first, until the engine allows one or the bound is reached. The engine has the last
 * word, so a witness is never a guess: verify prints it as the counterexample, and the
 * property tests check reach against it.
 */
import { canonicalizePath, spiffeNamespace, tryParseSpiffeId } from '../../domain/index.js';
import type { Evaluator } from '../evaluation.js';
import { kindOf, type Conjunction } from './clause.js';
import { freshValue, instances, patternMatches } from './pattern.js';
import type { Clause, ReachDestination, Unless, Witness } from './types.js';
import { buildRequest } from './witness-request.js';

type Value = string | undefined;

/** Two unrelated fresh texts: where a pattern excludes one (a suffix "/w1"), the other gets through. */
const FILLS = ['w1', 'x0'];

interface Slot {
  readonly attribute: string;
  readonly candidates: readonly Value[];
}

/** `meshTrustDomain`: the trust domain namespace witnesses are made in when the grant names none. */
export function findWitness(tree: Evaluator, destination: ReachDestination, grant: Conjunction, unless: readonly Unless[], meshTrustDomain = 'witness.example'): Witness | undefined {
  const slots = slotsFor(grant, unless.flatMap((u) => u.clauses), trustDomainOf(grant, unless, meshTrustDomain));
  if (slots.some((s) => s.candidates.length === 0)) return undefined;
  const denies = denyChecks(slots, unless);
  const choice: Value[] = [];
  const budget = { nodes: MAX_NODES, evaluations: MAX_EVALUATIONS };
  let found: Witness | undefined;
  // Depth first over the slots; a branch stops as soon as every clause of one DENY holds on it.
  const visit = (at: number): boolean => {
    if (budget.nodes-- <= 0 || budget.evaluations <= 0) return true;
    if (at === slots.length) {
      found = evaluate(tree, destination, slots, choice, budget);
      return found !== undefined;
    }
    for (const value of slots[at]!.candidates) {
      choice[at] = value;
      if (denies[at]!.some((clauses) => clauses.every(([slot, clause]) => holds(clause, choice[slot])))) continue;
      if (visit(at + 1)) return true;
    }
    return false;
  };
  visit(0);
  return found;
}

/** Engine evaluations and search nodes per witness at most: plenty for a few DENYs, bounded for many. */
const MAX_EVALUATIONS = 64;
const MAX_NODES = 20_000;

/** Each DENY's clauses with the slot they read, filed under the last slot they need. */
function denyChecks(slots: readonly Slot[], unless: readonly Unless[]): [number, Clause][][][] {
  const slotOf = new Map(slots.map((s, i) => [s.attribute, i]));
  const byLast: [number, Clause][][][] = slots.map(() => []);
  for (const deny of unless) {
    const clauses = deny.clauses.map((c): [number, Clause] => [slotOf.get(identityOr(c.attribute))!, c]);
    byLast[Math.max(...clauses.map(([slot]) => slot))]!.push(clauses);
  }
  return byLast;
}

function evaluate(tree: Evaluator, destination: ReachDestination, slots: readonly Slot[], choice: readonly Value[], budget: { evaluations: number }): Witness | undefined {
  const built = buildRequest(new Map(slots.map((s, i) => [s.attribute, choice[i]])), destination);
  if (built === undefined) return undefined;
  budget.evaluations -= 1;
  const decision = tree.evaluate(built.subject, built.request);
  if (decision.effect !== 'allow') return undefined;
  return { request: built.spec, ...(built.user ? { subject: { user: built.user } } : {}), decision: { effect: 'allow', reason: decision.reason, ...(decision.by ? { by: decision.by } : {}) } };
}

/** Whether the grant's clauses leave any candidate at all (a cheap test before the engine runs). */
export function plausible(grant: Conjunction): boolean {
  return slotsFor(grant, [], 'witness.example').every((s) => s.candidates.length > 0);
}

function slotsFor(grant: Conjunction, others: readonly Clause[], trustDomain: string): Slot[] {
  const attributes = new Set(['method', 'path', ...[...grant, ...others].map((c) => identityOr(c.attribute))]);
  return [...attributes].map((attribute) => {
    const own = grant.filter((c) => identityOr(c.attribute) === attribute);
    const written = [...grant, ...others].filter((c) => identityOr(c.attribute) === attribute);
    const pool = attribute === IDENTITY ? identityCandidates(written, trustDomain) : valueCandidates(attribute, written);
    const kept = pool.filter((value) => own.every((c) => holds(c, value)));
    const avoid = others.filter((c) => identityOr(c.attribute) === attribute);
    // Values meeting fewer DENY clauses first: the likeliest to be allowed.
    const score = (v: Value) => avoid.filter((c) => holds(c, v)).length;
    // Sorted as pairs: Array.prototype.sort puts `undefined` (absent) last whatever the comparator says.
    const ranked = kept.map((value, order) => ({ value, order, score: score(value) })).sort((a, b) => a.score - b.score || a.order - b.order);
    return { attribute, candidates: ranked.map((r) => r.value) };
  });
}

/** The caller's principal and namespace are one choice: the namespace is the principal's. */
const IDENTITY = 'source.principal';

function identityOr(attribute: string): string {
  return attribute === 'source.namespace' ? IDENTITY : attribute;
}

function holds(clause: Clause, value: Value): boolean {
  const actual = clause.attribute === 'source.namespace' ? namespaceOf(value) : value;
  const kind = kindOf(clause.attribute);
  const patterns = clause.values ?? clause.notValues ?? [];
  const hit = actual !== undefined && actual !== '' && patterns.some((p) => patternMatches(kind, p, actual));
  return clause.values !== undefined ? hit : !hit;
}

function namespaceOf(principal: Value): string | undefined {
  const id = principal === undefined ? undefined : tryParseSpiffeId(principal);
  return id && spiffeNamespace(id);
}

/** Absent first where an attribute may be absent, then every written pattern's instances, then a fresh value. */
function valueCandidates(attribute: string, written: readonly Clause[]): Value[] {
  const kind = kindOf(attribute);
  const patterns = written.flatMap((c) => c.values ?? c.notValues ?? []);
  const values = dedupe([...patterns.flatMap((p) => instances(kind, p)), ...FILLS.map((fill) => freshValue(kind, fill)), ...(attribute === 'method' ? ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] : [])]);
  return ALWAYS_SENT.has(attribute) ? values.filter(wellFormed(attribute)) : [undefined, ...values];
}

/** What every HTTP request carries: never absent in a witness. */
const ALWAYS_SENT: ReadonlySet<string> = new Set(['method', 'path', 'host']);

function wellFormed(attribute: string): (value: Value) => boolean {
  if (attribute === 'host') return (v) => v !== undefined && /^[a-z0-9.-]+(:\d+)?$/.test(v);
  if (attribute === 'method') return (v) => v !== undefined && /^[A-Z]+$/.test(v);
  return (v) => {
    try {
      return v !== undefined && canonicalizePath(v) === v;
    } catch {
      return false;
    }
  };
}

function identityCandidates(written: readonly Clause[], trustDomain: string): Value[] {
  const principals = written.filter((c) => c.attribute === 'source.principal').flatMap((c) => c.values ?? c.notValues ?? []);
  const namespaces = written.filter((c) => c.attribute === 'source.namespace').flatMap((c) => c.values ?? c.notValues ?? []);
  const inNamespaces = namespaces.flatMap((n) => instances('string', n)).map((n) => `spiffe://${trustDomain}/ns/${n}`);
  // A suffix pattern (`*/sa/x`) read inside each namespace: both may be asked of one caller.
  const suffixes = principals.filter((p) => p.startsWith('*') && p !== '*').map((p) => p.slice(1));
  const combined = inNamespaces.flatMap((ns) => suffixes.map((suffix) => `${ns}${suffix.startsWith('/') ? '' : '/'}${suffix}`));
  const all = dedupe([
    ...principals.flatMap((p) => instances('principal', p)),
    ...inNamespaces.map((ns) => `${ns}/sa/witness`),
    ...combined,
    ...FILLS.map((fill) => freshValue('principal', fill)),
  ]);
  return [undefined, ...all.filter((p) => tryParseSpiffeId(p) !== undefined)];
}

/** The trust domain written in the policies' principals, so namespace witnesses look like the mesh's. */
function trustDomainOf(grant: Conjunction, unless: readonly Unless[], fallback: string): string {
  for (const clause of [...grant, ...unless.flatMap((u) => u.clauses)]) {
    if (clause.attribute !== 'source.principal') continue;
    for (const pattern of clause.values ?? clause.notValues ?? []) {
      const id = tryParseSpiffeId(pattern);
      if (id !== undefined) return id.trustDomain;
    }
  }
  return fallback;
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}
