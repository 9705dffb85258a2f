/**
 * The pipeline: identity → decision cache → decision tree → Decision. Synchronous unless a
 * token must be verified on a cache miss. Every error on the way is a deny with a reason:
 * this class never throws and never allows by accident.
 */
import { randomUUID } from 'node:crypto';
import { REASON_CODES, type AccessRequest, type Authorization, type Decision, type ReasonCode, type Subject } from '../domain/index.js';
import {
  decisionKeyBuilder,
  DestinationResolver,
  type Destination,
  type Evaluation,
  type DecisionKeyBuilder,
  type PolicySnapshot,
} from '../policy/index.js';
import type { DecisionCache } from './decision-cache.js';
import { failureVerdict } from './outcome.js';

/** Anything that turns a request's credentials into a Subject (identity/ provides it). */
export interface SubjectResolver {
  resolve(request: AccessRequest): Subject | Promise<Subject>;
}

/** The snapshot in service, swapped atomically by the reloader. */
export interface SnapshotSource {
  readonly current: PolicySnapshot | undefined;
}

/** Called after each policy evaluation, e.g. by the shadow evaluator; `destination` is the one the Check resolved. */
export type EvaluationObserver = (
  subject: Subject,
  request: AccessRequest,
  evaluation: Evaluation,
  decision: Decision,
  destination: Destination,
) => void;

export interface AuthorizerDeps {
  readonly snapshots: SnapshotSource;
  readonly identity: SubjectResolver;
  readonly cache?: DecisionCache;
  /** Works out each request's destination once; default one with a memo of the default size. */
  readonly destinations?: DestinationResolver;
  /** Told of every evaluation (shadow policies); it never changes an answer, even when it throws. */
  readonly observe?: EvaluationObserver;
  /** Told when `observe` threw; must not throw. */
  readonly onObserveError?: (error: unknown) => void;
  /** Wall clock, epoch milliseconds: compared with token expiry. */
  readonly wallNow?: () => number;
  readonly newId?: () => string;
}

/** How one snapshot's cache keys are made: its generation, then the attributes it reads. */
interface SnapshotKeys {
  readonly snapshot: PolicySnapshot;
  readonly prefix: string;
  readonly build: DecisionKeyBuilder;
}

export class Authorizer {
  readonly #deps: AuthorizerDeps;
  readonly #wallNow: () => number;
  readonly #newId: () => string;
  readonly #destinations: DestinationResolver;
  #keys: SnapshotKeys | undefined;

  constructor(deps: AuthorizerDeps) {
    this.#deps = deps;
    this.#wallNow = deps.wallNow ?? Date.now;
    this.#newId = deps.newId ?? randomUUID;
    this.#destinations = deps.destinations ?? new DestinationResolver();
  }

  /**
   * The one result of a Check. Its destination is resolved here, once, and is the one the
   * cache key, the tree, the shadow observer and telemetry all see.
   */
  authorize(request: AccessRequest): Authorization | Promise<Authorization> {
    const destination = this.#destinations.resolve(request);
    let subject: Subject | Promise<Subject>;
    try {
      subject = this.#deps.identity.resolve(request);
    } catch (error) {
      return failed(this.#identityFailure(error), destination.service);
    }
    if (subject instanceof Promise) {
      return subject.then(
        (resolved) => this.#authorized(resolved, request, destination),
        (error: unknown) => failed(this.#identityFailure(error), destination.service),
      );
    }
    return this.#authorized(subject, request, destination);
  }

  #authorized(subject: Subject, request: AccessRequest, destination: Destination): Authorization {
    const decision = this.#decide(subject, request, destination);
    const service = destination.service;
    return service === undefined ? { decision, subject } : { decision, subject, destination: service };
  }

  /** Policy decision for an already-resolved subject. */
  #decide(subject: Subject, request: AccessRequest, destination: Destination): Decision {
    const snapshot = this.#deps.snapshots.current;
    if (snapshot === undefined) return this.failure('not_ready', 0, 'no policy snapshot loaded');
    let evaluation: Evaluation;
    let decision: Decision;
    try {
      evaluation = this.#evaluate(snapshot, subject, request, destination);
      decision = this.#toDecision(evaluation, snapshot.generation);
    } catch (error) {
      return this.failure('internal_error', snapshot.generation, describe(error));
    }
    this.#observe(subject, request, evaluation, decision, destination);
    return decision;
  }

  /** Outside decide's failure path: an observer that throws is reported, and the decision stands. */
  #observe(subject: Subject, request: AccessRequest, evaluation: Evaluation, decision: Decision, destination: Destination): void {
    const observe = this.#deps.observe;
    if (observe === undefined) return;
    try {
      observe(subject, request, evaluation, decision, destination);
    } catch (error) {
      try {
        this.#deps.onObserveError?.(error);
      } catch {
        // the hook is told, never trusted
      }
    }
  }

  /** A decision for a failure on the way to a policy evaluation. */
  failure(reason: ReasonCode, generation: number, detail?: string): Decision {
    const verdict = failureVerdict(reason);
    return { id: this.#newId(), verdict, reason, generation, ...(detail ? { detail } : {}) };
  }

  #evaluate(snapshot: PolicySnapshot, subject: Subject, request: AccessRequest, destination: Destination): Evaluation {
    const cache = this.#deps.cache;
    if (cache === undefined) return snapshot.tree.evaluate(subject, request, destination);
    const keys = this.#keysOf(snapshot);
    const key = keys.prefix + keys.build(subject, request, destination);
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const evaluation = snapshot.tree.evaluate(subject, request, destination);
    cache.set(key, evaluation, this.#remainingLifeMs(subject));
    return evaluation;
  }

  #keysOf(snapshot: PolicySnapshot): SnapshotKeys {
    const keys = this.#keys;
    if (keys !== undefined && keys.snapshot === snapshot) return keys;
    const fresh = { snapshot, prefix: `${snapshot.generation}|`, build: decisionKeyBuilder(snapshot.tree.reads) };
    this.#keys = fresh;
    return fresh;
  }

  /** A decision resting on a token must not outlive it. */
  #remainingLifeMs(subject: Subject): number | undefined {
    if (subject.expiresAt === undefined) return undefined;
    return subject.expiresAt * 1000 - this.#wallNow();
  }

  /** Optional members are set only when present (never present-and-undefined); no spreads on the hot path. */
  #toDecision(evaluation: Evaluation, generation: number): Decision {
    const decision: Mutable<Decision> = { id: this.#newId(), verdict: evaluation.effect, reason: evaluation.reason, generation };
    if (evaluation.by) decision.by = evaluation.by;
    if (evaluation.dryRun) decision.dryRun = evaluation.dryRun;
    if (evaluation.audit) decision.audit = evaluation.audit;
    return decision;
  }

  #identityFailure(error: unknown): Decision {
    const generation = this.#deps.snapshots.current?.generation ?? 0;
    const reason = identityReason(error);
    return this.failure(reason, generation, describe(error));
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function failed(decision: Decision, destination: string | undefined): Authorization {
  return destination === undefined ? { decision } : { decision, destination };
}

const KNOWN_REASONS: ReadonlySet<string> = new Set(REASON_CODES);

/** Identity errors carry a reason code; anything else is an internal error (fail closed). */
function identityReason(error: unknown): ReasonCode {
  if (typeof error === 'object' && error !== null && 'reason' in error) {
    const reason = (error as { reason: unknown }).reason;
    if (typeof reason === 'string' && KNOWN_REASONS.has(reason)) return reason as ReasonCode;
  }
  return 'internal_error';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
