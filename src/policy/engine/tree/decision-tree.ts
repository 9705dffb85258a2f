/**
 * compileTree: policies → an immutable DecisionTree. Policies are filed by destination
 * (exact service, namespace, or everywhere), their rules by source principal, path and
 * method; an evaluation walks only the buckets of the request's destination and the
 * index entries of its attributes, then checks the few candidate rules left.
 */
import type { AccessRequest, Subject } from '../../../domain/index.js';
import type { Evaluation, Evaluator } from '../../evaluation.js';
import type { Destination } from '../destination.js';
import type { EngineOptions, Policy } from '../../model.js';
import { BodyPaths } from '../body/body-paths.js';
import { BodyReader, bodyLimits, registerBodyReader } from '../body/body-reader.js';
import type { BodyLimits } from '../body/read-body.js';
import { MatchContext } from '../matchers/match-context.js';
import { sortedReads, type RequestAttribute } from '../request-attribute.js';
import { Accumulator } from './accumulator.js';
import { SMALL_LIST } from './rule-index.js';
import { compilePolicies, type CompiledPolicies } from './compile-policies.js';
import { TreeIndex } from './tree-index.js';
import { withTrustDomainAliases } from '../trust-domain-aliases.js';
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
  const compiled = compilePolicies(withTrustDomainAliases(policies, options.trustDomainAliases), options, reads, bodyPaths);
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
 * Two indexes over the same compiled policies: one for HTTP requests, one for connections,
 * where each rule is as it reads a connection (compile-policies.ts). Both feed one accumulator
 * and one set of verdicts: a rule's ordinal and its decision are the same in either.
 */
class Tree implements DecisionTree {
  readonly stats: TreeStats;
  readonly #http: TreeIndex;
  readonly #connection: TreeIndex;
  readonly #verdicts: Verdicts;
  readonly #ctx: MatchContext;
  readonly #state: Accumulator;

  constructor(
    compiled: CompiledPolicies,
    options: EngineOptions,
    readonly reads: ReadonlySet<RequestAttribute>,
    tuning: TreeTuning,
    body: BodyReader | undefined,
  ) {
    this.#ctx = new MatchContext(body);
    this.#http = new TreeIndex(compiled.http, tuning.smallList);
    // A connection has no path or method to narrow by: its candidates stay in plain lists.
    this.#connection = new TreeIndex(compiled.connection, Number.POSITIVE_INFINITY);
    this.#verdicts = new Verdicts(compiled.http, options.defaultAction === 'ALLOW');
    this.#state = new Accumulator(compiled.http.length, this.#ctx);
    this.stats = Object.freeze({
      policies: compiled.http.length,
      rules: this.#verdicts.refs.length,
      services: this.#http.services,
      namespaces: this.#http.namespaces,
      everywhere: this.#http.everywhereCount,
    });
    Object.freeze(this);
  }

  evaluate(subject: Subject, request: AccessRequest, destination?: Destination): Evaluation {
    const ctx = this.#ctx;
    ctx.reset(subject, request, destination);
    this.#state.reset();
    (request.kind === 'connection' ? this.#connection : this.#http).collect(ctx, this.#state);
    return this.#verdicts.decide(this.#state);
  }
}
