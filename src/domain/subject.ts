/** Who is calling: the workload (if known) and the end user (if a verified JWT was presented). */
import type { SpiffeId } from './spiffe-id.js';

/** How the workload identity was established. */
export type WorkloadEvidence = 'mtls-principal' | 'x509-svid' | 'jwt-svid' | 'xfcc';

export interface EndUser {
  /** `iss/sub`, as Istio writes request principals. */
  readonly principal: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
  /** `azp` claim, when present. */
  readonly presenter?: string;
  /** Verified claims, as JSON. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** Token expiry, epoch seconds: nothing derived from this token may be cached past it. */
  readonly expiresAt?: number;
}

export interface Subject {
  readonly workload?: SpiffeId;
  readonly workloadEvidence?: WorkloadEvidence;
  readonly user?: EndUser;
  /** Earliest expiry (epoch seconds) of any credential this subject rests on. */
  readonly expiresAt?: number;
}

export const ANONYMOUS: Subject = Object.freeze({});
