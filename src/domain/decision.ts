/**
 * The outcome of one Check and why. Reason codes are a closed set: they double as the
 * `reason` label of metrics, so nothing taken from a request ever becomes one.
 */

export type Verdict = 'allow' | 'deny' | 'unauthenticated' | 'invalid_request';

export const REASON_CODES = [
  // policy outcomes
  'policy_allow',
  'policy_deny',
  'default_allow',
  'default_deny',
  // malformed requests (400)
  'missing_http_attributes',
  'missing_connection_attributes',
  'invalid_sni',
  'invalid_path',
  'invalid_header',
  'request_too_large',
  // identity (401, or 403 where the credential is valid but not accepted)
  'invalid_principal',
  'untrusted_trust_domain',
  'invalid_certificate',
  'invalid_token',
  'identity_conflict',
  'identity_unavailable',
  // anything unexpected on the way to a decision: fail closed
  'internal_error',
  'not_ready',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** Which policy and rule decided, as written by the operator (never sent to callers). */
export interface PolicyRef {
  /** `namespace/name` for Istio policies, `name` for native ones. */
  readonly policy: string;
  /** Index of the matching rule within the policy, from 0; absent for default actions. */
  readonly rule?: number;
}

/** What dry-run policies would have done, had they been enforced. */
export interface DryRunOutcome {
  readonly verdict: 'allow' | 'deny';
  readonly by?: PolicyRef;
}

export interface Decision {
  /** Unique id of this decision (logged, and returned in dynamic metadata). */
  readonly id: string;
  readonly verdict: Verdict;
  readonly reason: ReasonCode;
  readonly by?: PolicyRef;
  /** Present when at least one dry-run policy applied to the destination. */
  readonly dryRun?: DryRunOutcome;
  /** The AUDIT policy that matched, if any: such decisions are always logged. */
  readonly audit?: PolicyRef;
  /** Policy snapshot generation that decided. */
  readonly generation: number;
  /** Human detail for logs only (e.g. which attribute was malformed). Never sent to callers. */
  readonly detail?: string;
}
