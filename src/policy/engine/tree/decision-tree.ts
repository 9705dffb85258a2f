/**
 * compileTree: policies → an immutable DecisionTree. Policies are filed by destination
 * (exact service, namespace, or everywhere), their rules by source principal, path and
 * method; an evaluation walks only the buckets of the request's destination and the
 * index entries of its attributes, then checks the few candidate rules left.
 */
import type { AccessRequest } from '../../../domain/access-request.js';
import type { Subject } from '../../../domain/subject.js';
import type { Evaluation, Evaluator } from '../../evaluation.js';
import type { EngineOptions, Policy } from '../../model.js';
import { MatchContext } from '../matchers/match-context.js';
import { sortedReads, type RequestAttribute } from '../request-attribute.js';
import { Accumulator } from './accumulator.js';
import { Bucket } from './bucket.js';
import { SMALL_LIST } from './rule-index.js';
import { compilePolicies } from './compile-policies.js';
import type { CompiledPolicy } from './compiled-rule.js';
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
  const reads = new Set<RequestAttribute>();
  const compiled = compilePolicies(policies, options, reads);
  return new Tree(compiled, options, sortedReads(reads), tuning);
}

class Tree implements DecisionTree {
  readonly stats: TreeStats;
  readonly #byService: Map<string, Bucket>;
  readonly #byNamespace: Map<string, Bucket>;
  readonly #everywhere: Bucket;
  readonly #verdicts: Verdicts;
  readonly #ctx = new MatchContext();
  readonly #state: Accumulator;

  constructor(
    compiled: readonly CompiledPolicy[],
    options: EngineOptions,
    readonly reads: ReadonlySet<RequestAttribute>,
    tuning: TreeTuning,
  ) {
    const byService = new Map<string, CompiledPolicy[]>();
    const byNamespace = new Map<string, CompiledPolicy[]>();
    const everywhere: CompiledPolicy[] = [];
    for (const policy of compiled) file(policy, byService, byNamespace, everywhere);
    // Each bucket is built in one go, so its index sits together in memory.
    this.#byService = buckets(byService, tuning);
    this.#byNamespace = buckets(byNamespace, tuning);
    this.#everywhere = bucket(everywhere, tuning);
    this.#verdicts = new Verdicts(compiled, options.defaultAction === 'ALLOW');
    this.#state = new Accumulator(compiled.length, this.#ctx);
    this.stats = Object.freeze({
      policies: compiled.length,
      rules: this.#verdicts.refs.length,
      services: this.#byService.size,
      namespaces: this.#byNamespace.size,
      everywhere: everywhere.length,
    });
    Object.freeze(this);
  }

  evaluate(subject: Subject, request: AccessRequest): Evaluation {
    const ctx = this.#ctx;
    ctx.reset(subject, request);
    const state = this.#state;
    state.reset();
    if (ctx.service !== undefined) {
      const service = this.#byService.get(ctx.service);
      if (service !== undefined) state.visit(service);
    }
    if (ctx.namespace !== undefined) {
      const namespace = this.#byNamespace.get(ctx.namespace);
      if (namespace !== undefined) state.visit(namespace);
    }
    state.visit(this.#everywhere);
    return this.#verdicts.decide(state);
  }
}

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

function buckets(policies: Map<string, readonly CompiledPolicy[]>, tuning: TreeTuning): Map<string, Bucket> {
  const built = new Map<string, Bucket>();
  for (const [key, list] of policies) built.set(key, bucket(list, tuning));
  return built;
}

function bucket(policies: readonly CompiledPolicy[], tuning: TreeTuning): Bucket {
  return Bucket.of(policies, tuning.smallList);
}
