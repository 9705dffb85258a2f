/**
 * Counters the telemetry layer reads (and turns into metrics): plain numbers, no metrics
 * library here. Labels come from closed sets only.
 */
import type { IdentityErrorCode } from '../errors.js';

export type VerificationKind = 'x509-svid' | 'xfcc' | 'jwt-svid' | 'oidc' | 'jwt-authn-metadata';
export const VERIFICATION_KINDS: readonly VerificationKind[] = ['x509-svid', 'xfcc', 'jwt-svid', 'oidc', 'jwt-authn-metadata'];

export interface JwksFetchStats {
  ok: number;
  /** Answered 200 with something that is not a usable JWK Set. */
  invalid: number;
  /** Answered with another status than 200. */
  httpError: number;
  /** Network error or timeout. */
  error: number;
}

export interface IdentityStats {
  /** Verified bearer tokens and peer certificates share one cache. */
  readonly tokenCache: { hits: number; misses: number; entries: number };
  readonly verifications: Record<VerificationKind, { ok: number; failed: number }>;
  readonly jwksFetches: JwksFetchStats;
  /** Rejections by error code (a closed set, so a safe metric label). */
  readonly rejections: Partial<Record<IdentityErrorCode, number>>;
}

export function createStats(): IdentityStats {
  const verifications = {} as Record<VerificationKind, { ok: number; failed: number }>;
  for (const kind of VERIFICATION_KINDS) verifications[kind] = { ok: 0, failed: 0 };
  return {
    tokenCache: { hits: 0, misses: 0, entries: 0 },
    verifications,
    jwksFetches: { ok: 0, invalid: 0, httpError: 0, error: 0 },
    rejections: {},
  };
}

export function countRejection(stats: IdentityStats, code: IdentityErrorCode): void {
  stats.rejections[code] = (stats.rejections[code] ?? 0) + 1;
}
