/** What the policy engine answers for one request, before authz/ turns it into a Decision. */
import type { AccessRequest, DryRunOutcome, PolicyRef, Subject } from '../domain/index.js';
import type { Destination } from './engine/destination.js';

export type PolicyReason = 'policy_allow' | 'policy_deny' | 'default_allow' | 'default_deny';

export interface Evaluation {
  readonly effect: 'allow' | 'deny';
  readonly reason: PolicyReason;
  /** The enforced policy and rule that decided; absent for the default action. */
  readonly by?: PolicyRef;
  /** Present when a dry-run policy applied to the destination. */
  readonly dryRun?: DryRunOutcome;
  /** An AUDIT policy that matched. */
  readonly audit?: PolicyRef;
}

/** Anything that decides: the compiled DecisionTree, and the naive reference evaluator. */
export interface Evaluator {
  /** `destination`: the request's, as the caller already resolved it (once per Check); absent: resolved here. */
  evaluate(subject: Subject, request: AccessRequest, destination?: Destination): Evaluation;
}
