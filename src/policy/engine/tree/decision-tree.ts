/**
 * compileTree: policies → an immutable DecisionTree. Policies are filed by destination
 * (exact service, namespace, or everywhere), their rules by source principal, path and
 * method; an evaluation walks only the buckets of the request's destination and the
 * index entries of its attributes, then checks the few candidate rules left.
 */
import type { AccessRequest } from '../../../domain/access-request.js';
import type { PolicyRef } from '../../../domain/decision.js';
import type { Subject } from '../../../domain/subject.js';
import type { Evaluation, Evaluator, PolicyReason } from '../../evaluation.js';
import type { EngineOptions, Policy } from '../../model.js';
import { resolveDestination } from '../destination.js';
import { MatchContext } from '../matchers/match-context.js';
import { sortedReads, type RequestAttribute } from '../request-attribute.js';
import { Accumulator, refAt } from './accumulator.js';
import { Bucket } from './bucket.js';
import { SMALL_LIST } from './rule-index.js';
import { compilePolicies } from './compile-policies.js';
import type { CompiledPolicy } from './compiled-rule.js';

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
  readonly #byService = new Map<string, Bucket>();
  readonly #byNamespace = new Map<string, Bucket>();
  readonly #everywhere: Bucket;
  readonly #tuning: TreeTuning;
  readonly #refs: readonly PolicyRef[];
  readonly #defaultAllow: boolean;
  readonly #state: Accumulator;

  constructor(
    compiled: readonly CompiledPolicy[],
    options: EngineOptions,
    readonly reads: ReadonlySet<RequestAttribute>,
    tuning: TreeTuning,
  ) {
    this.#tuning = tuning;
    this.#everywhere = new Bucket(tuning.smallList);
    for (const policy of compiled) this.#file(policy);
    this.#refs = Object.freeze(compiled.flatMap((p) => p.rules.map((r) => r.ref)));
    this.#defaultAllow = options.defaultAction === 'ALLOW';
    this.#state = new Accumulator(compiled.length);
    this.stats = Object.freeze({
      policies: compiled.length,
      rules: this.#refs.length,
      services: this.#byService.size,
      namespaces: this.#byNamespace.size,
      everywhere: compiled.filter((p) => p.placement.kind === 'everywhere').length,
    });
    Object.freeze(this);
  }

  evaluate(subject: Subject, request: AccessRequest): Evaluation {
    const destination = resolveDestination(request);
    const state = this.#state;
    state.reset(new MatchContext(subject, request, destination));
    const service = destination.service === undefined ? undefined : this.#byService.get(destination.service);
    if (service !== undefined) state.visit(service);
    const namespace = destination.namespace === undefined ? undefined : this.#byNamespace.get(destination.namespace);
    if (namespace !== undefined) state.visit(namespace);
    state.visit(this.#everywhere);
    return this.#result(state);
  }

  #file(policy: CompiledPolicy): void {
    const placement = policy.placement;
    switch (placement.kind) {
      case 'services':
        for (const service of placement.services) this.#bucketFor(this.#byService, service).add(policy);
        return;
      case 'namespace':
        return this.#bucketFor(this.#byNamespace, placement.namespace).add(policy);
      case 'everywhere':
        return this.#everywhere.add(policy);
    }
  }

  #bucketFor(map: Map<string, Bucket>, key: string): Bucket {
    let bucket = map.get(key);
    if (bucket === undefined) map.set(key, (bucket = new Bucket(this.#tuning.smallList)));
    return bucket;
  }

  #result(state: Accumulator): Evaluation {
    const enforced = outcome(state.enforcedDeny, state.enforcedAllow, state.enforcedAllowApplies, this.#defaultAllow);
    const by = refAt(this.#refs, enforced.ordinal);
    const audit = refAt(this.#refs, state.enforcedAudit);
    const result: { -readonly [K in keyof Evaluation]: Evaluation[K] } = { effect: enforced.effect, reason: enforced.reason };
    if (by !== undefined) result.by = by;
    if (state.dryRunApplies) {
      const dry = outcome(state.anyDeny, state.anyAllow, state.anyAllowApplies, this.#defaultAllow);
      const dryBy = refAt(this.#refs, dry.ordinal);
      result.dryRun = dryBy === undefined ? { verdict: dry.effect } : { verdict: dry.effect, by: dryBy };
    }
    if (audit !== undefined) result.audit = audit;
    return result;
  }
}


interface Outcome {
  readonly effect: 'allow' | 'deny';
  readonly reason: PolicyReason;
  readonly ordinal: number;
}

/** DESIGN's order: a matching DENY; a matching ALLOW; deny where ALLOWs applied; the default. */
function outcome(deny: number, allow: number, allowApplies: boolean, defaultAllow: boolean): Outcome {
  if (deny !== Infinity) return { effect: 'deny', reason: 'policy_deny', ordinal: deny };
  if (allow !== Infinity) return { effect: 'allow', reason: 'policy_allow', ordinal: allow };
  if (allowApplies || !defaultAllow) return DEFAULT_DENY;
  return DEFAULT_ALLOW;
}

const DEFAULT_DENY: Outcome = Object.freeze({ effect: 'deny', reason: 'default_deny', ordinal: Infinity });
const DEFAULT_ALLOW: Outcome = Object.freeze({ effect: 'allow', reason: 'default_allow', ordinal: Infinity });
