/**
 * compileTree: policies → an immutable DecisionTree. Policies are filed by destination
 * (exact service, namespace, or everywhere), their rules by source principal, path and
 * method; an evaluation walks only the buckets of the request's destination and the
 * index entries of its attributes, then checks the few candidate rules left.
 */
import type { AccessRequest, Subject } from '../../../domain/index.js';
import type { Evaluation, Evaluator } from '../../evaluation.js';
import type { EngineOptions, Policy } from '../../model.js';
import { BodyPaths } from '../body/body-paths.js';
import { BodyReader, bodyLimits, registerBodyReader } from '../body/body-reader.js';
import type { BodyLimits } from '../body/read-body.js';
import { MatchContext } from '../matchers/match-context.js';
import { sortedReads, type RequestAttribute } from '../request-attribute.js';
import { Accumulator } from './accumulator.js';
import { Bucket, BucketFlags } from './bucket.js';
import { SMALL_LIST } from './rule-index.js';
import { compactKeys } from './compact-keys.js';
import { compilePolicies } from './compile-policies.js';
import type { CompiledPolicy } from './compiled-rule.js';
import { ANY_PRINCIPAL, PrincipalTable, PrincipalTableBuilder } from './principal-table.js';
import { Verdicts } from './verdicts.js';

export interface TreeStats {
  readonly policies: number;
  readonly rules: number;
  /** Distinct services and namespaces the index files policies under. */
  readonly services: number;
  readonly namespaces: number;
  /** Policies offered to every request (no exact service or namespace to file them by). */
  readonly everywhere: number;
}

export interface DecisionTree extends Evaluator {
  readonly stats: TreeStats;
  /** What the compiled policies read: a decision cache keys on these only (see decisionKey). */
  readonly reads: ReadonlySet<RequestAttribute>;
}

export function compileTree(policies: readonly Policy[], options: EngineOptions): DecisionTree {
  return compileTreeWith(policies, options, DEFAULT_TUNING);
}

/** Index shape knobs; tests set `smallList: 0` so that every rule goes through the trie. */
export interface TreeTuning {
  readonly smallList: number;
}

const DEFAULT_TUNING: TreeTuning = Object.freeze({ smallList: SMALL_LIST });

export function compileTreeWith(policies: readonly Policy[], options: EngineOptions, tuning: TreeTuning): DecisionTree {
  const limits = bodyLimits(options.maxBodyBytes);
  const reads = new Set<RequestAttribute>();
  const bodyPaths = new BodyPaths();
  const compiled = compilePolicies(policies, options, reads, bodyPaths);
  const sorted = sortedReads(reads);
  return new Tree(compiled, options, sorted, tuning, bodyReader(sorted, bodyPaths, limits));
}

/** A reader only for policies that read the body; the decision cache's key builder shares it. */
function bodyReader(reads: ReadonlySet<RequestAttribute>, paths: BodyPaths, limits: BodyLimits): BodyReader | undefined {
  if (paths.root.names.length === 0) return undefined;
  const reader = new BodyReader(paths, limits);
  registerBodyReader(reads, reader);
  return reader;
}

/**
 * Buckets have ids: 0 is everywhere, then services, then namespaces. A bucket's flags byte
 * says what always applies there and whether the Bucket itself must be visited; the
 * principal table holds its short per-principal lists.
 */
class Tree implements DecisionTree {
  readonly stats: TreeStats;
  readonly #serviceIds: ReadonlyMap<string, number>;
  readonly #namespaceIds: ReadonlyMap<string, number>;
  /** By bucket id; only buckets flagged Visit are kept. */
  readonly #buckets: readonly (Bucket | undefined)[];
  readonly #flags: Uint8Array;
  readonly #table: PrincipalTable;
  /**
   * By principal id: whether the everywhere bucket has a list for it. Every request
   * visits that bucket, and most principals have none there: no probe for them.
   */
  readonly #everywhere: Uint8Array;
  readonly #verdicts: Verdicts;
  readonly #ctx: MatchContext;
  readonly #state: Accumulator;

  constructor(
    compiled: readonly CompiledPolicy[],
    options: EngineOptions,
    readonly reads: ReadonlySet<RequestAttribute>,
    tuning: TreeTuning,
    body: BodyReader | undefined,
  ) {
    this.#ctx = new MatchContext(body);
    const byService = new Map<string, CompiledPolicy[]>();
    const byNamespace = new Map<string, CompiledPolicy[]>();
    const everywhere: CompiledPolicy[] = [];
    for (const policy of compiled) file(policy, byService, byNamespace, everywhere);
    const builder = new IndexBuilder(tuning);
    builder.add(everywhere);
    this.#serviceIds = compactKeys(builder.addAll(byService));
    this.#namespaceIds = compactKeys(builder.addAll(byNamespace));
    this.#buckets = Object.freeze(builder.buckets);
    this.#flags = Uint8Array.from(builder.flags);
    this.#table = builder.table.build();
    this.#everywhere = new Uint8Array(builder.table.principalIds.size + 1);
    for (const id of builder.everywherePrincipals) this.#everywhere[id] = 1;
    this.#verdicts = new Verdicts(compiled, options.defaultAction === 'ALLOW');
    this.#state = new Accumulator(compiled.length, this.#ctx);
    this.stats = Object.freeze({
      policies: compiled.length,
      rules: this.#verdicts.refs.length,
      services: this.#serviceIds.size,
      namespaces: this.#namespaceIds.size,
      everywhere: everywhere.length,
    });
    Object.freeze(this);
  }

  evaluate(subject: Subject, request: AccessRequest): Evaluation {
    const ctx = this.#ctx;
    ctx.reset(subject, request);
    this.#state.reset();
    const principal = this.#table.principalId(ctx.sourcePrincipal);
    if (ctx.service !== undefined) {
      const service = this.#serviceIds.get(ctx.service);
      if (service !== undefined) this.#visit(service, principal);
    }
    if (ctx.namespace !== undefined) {
      const namespace = this.#namespaceIds.get(ctx.namespace);
      if (namespace !== undefined) this.#visit(namespace, principal);
    }
    this.#visit(EVERYWHERE, principal >= 0 && this.#everywhere[principal] === 1 ? principal : -1);
    return this.#verdicts.decide(this.#state);
  }

  /** Residual scopes (in the Bucket) before any of its rules, wherever they are filed. */
  #visit(bucket: number, principal: number): void {
    const state = this.#state;
    const flags = this.#flags[bucket]!;
    state.applies(flags);
    if ((flags & BucketFlags.Visit) !== 0) state.visit(this.#buckets[bucket]!);
    if (principal >= 0) this.#table.collect(bucket, principal, state);
    if ((flags & BucketFlags.AnyPrincipal) !== 0) this.#table.collect(bucket, ANY_PRINCIPAL, state);
  }
}

const EVERYWHERE = 0;

function file(
  policy: CompiledPolicy,
  byService: Map<string, CompiledPolicy[]>,
  byNamespace: Map<string, CompiledPolicy[]>,
  everywhere: CompiledPolicy[],
): void {
  const placement = policy.placement;
  switch (placement.kind) {
    case 'services':
      for (const service of placement.services) listFor(byService, service).push(policy);
      return;
    case 'namespace':
      listFor(byNamespace, placement.namespace).push(policy);
      return;
    case 'everywhere':
      everywhere.push(policy);
      return;
  }
}

function listFor(map: Map<string, CompiledPolicy[]>, key: string): CompiledPolicy[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

/**
 * Builds each bucket in one go and seals it at once, its short lists going straight to
 * the principal table: nothing per bucket lives longer than it must (compile time at
 * 100k rules is mostly the garbage collector copying what is still alive).
 */
class IndexBuilder {
  readonly table = new PrincipalTableBuilder();
  readonly buckets: (Bucket | undefined)[] = [];
  readonly flags: number[] = [];
  /** Principal ids the everywhere bucket has a list for. */
  readonly everywherePrincipals: number[] = [];

  constructor(readonly tuning: TreeTuning) {}

  /** Returns key → bucket id. */
  addAll(policies: ReadonlyMap<string, readonly CompiledPolicy[]>): Map<string, number> {
    const ids = new Map<string, number>();
    for (const [key, list] of policies) ids.set(key, this.add(list));
    return ids;
  }

  add(policies: readonly CompiledPolicy[]): number {
    const id = this.buckets.length;
    const bucket = Bucket.of(policies, this.tuning.smallList);
    let any = 0;
    bucket.seal((principal, list) => {
      if (principal === undefined) any = BucketFlags.AnyPrincipal;
      const principalId = this.table.add(id, principal, list);
      if (id === EVERYWHERE && principal !== undefined) this.everywherePrincipals.push(principalId);
    });
    const flags = bucket.flags | any;
    this.flags.push(flags);
    this.buckets.push((flags & BucketFlags.Visit) !== 0 ? bucket : undefined);
    return id;
  }
}
