/**
 * Counters the telemetry layer reads (and turns into metrics): plain numbers, no metrics
 * library here. Labels come from closed sets only.
 */
import type { BundleErrorCode, IdentityErrorCode } from '../errors.js';
import type { KeySource } from './key-file-failure.js';

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

/** A key file now: loaded and good, failing with its last good keys kept (stale), or never loaded. */
export type KeyFileState = 'loaded' | 'stale' | 'unavailable';
export const KEY_SOURCES: readonly KeySource[] = ['trust-domain', 'issuer'];

export interface KeyFileStats {
  /** Key files (bundles, roots, JWKS files) by source and state, as they are now. */
  readonly files: Record<KeySource, Record<KeyFileState, number>>;
  /** Loads that failed, by source and code (every read or parse that failed, not each retry of an unchanged file). */
  readonly failures: Record<KeySource, Partial<Record<BundleErrorCode, number>>>;
}

export interface IdentityStats {
  /** Verified bearer tokens and peer certificates share one cache. */
  readonly tokenCache: { hits: number; misses: number; entries: number };
  readonly verifications: Record<VerificationKind, { ok: number; failed: number }>;
  readonly jwksFetches: JwksFetchStats;
  /** Rejections by error code (a closed set, so a safe metric label). */
  readonly rejections: Partial<Record<IdentityErrorCode, number>>;
  readonly keyFiles: KeyFileStats;
  readonly workloadApi: WorkloadApiStats;
  /** Per trust domain fed by a bundle endpoint (configured names only: a closed set). */
  readonly bundleEndpoints: Record<string, BundleEndpointStats>;
}

/**
 * How a bundle endpoint's polls ended: `applied` (a new bundle in service), `unchanged` (the
 * same bundle again: fresh, nothing to swap), or refused with the last good bundle kept:
 * `error` (network, TLS, timeout), `http_error` (not 200), `too_large`, `invalid` (not a usable
 * SPIFFE bundle), `sequence_backwards` (an older spiffe_sequence than the one in service).
 */
export type BundleFetchOutcome = 'applied' | 'unchanged' | 'error' | 'http_error' | 'too_large' | 'invalid' | 'sequence_backwards';
export const BUNDLE_FETCH_OUTCOMES: readonly BundleFetchOutcome[] = ['applied', 'unchanged', 'error', 'http_error', 'too_large', 'invalid', 'sequence_backwards'];

export interface BundleEndpointStats {
  readonly fetches: Record<BundleFetchOutcome, number>;
  /** When a poll last brought a good bundle (applied or unchanged), epoch ms; undefined before. */
  lastGoodAt: number | undefined;
  /** spiffe_sequence of the bundle in service, if it carries one. */
  sequence: number | undefined;
}

export function createBundleEndpointStats(): BundleEndpointStats {
  const fetches = {} as Record<BundleFetchOutcome, number>;
  for (const outcome of BUNDLE_FETCH_OUTCOMES) fetches[outcome] = 0;
  return { fetches, lastGoodAt: undefined, sequence: undefined };
}

/** The Workload API's bundle streams (all zero without `identity.workloadApi`). */
export interface WorkloadApiStats {
  /** Updates applied, by stream. */
  readonly updates: { x509: number; jwt: number };
  /** Updates refused (malformed, empty): the last good bundles kept serving. */
  readonly rejected: { x509: number; jwt: number };
  /** Times a stream failed or ended and was opened again. */
  readonly reconnects: { x509: number; jwt: number };
  /** When the last update was applied, epoch ms; undefined before the first (the metric's age). */
  lastUpdateAt: number | undefined;
}

export function createStats(): IdentityStats {
  const verifications = {} as Record<VerificationKind, { ok: number; failed: number }>;
  for (const kind of VERIFICATION_KINDS) verifications[kind] = { ok: 0, failed: 0 };
  return {
    tokenCache: { hits: 0, misses: 0, entries: 0 },
    verifications,
    jwksFetches: { ok: 0, invalid: 0, httpError: 0, error: 0 },
    rejections: {},
    keyFiles: {
      files: { 'trust-domain': noFiles(), issuer: noFiles() },
      failures: { 'trust-domain': {}, issuer: {} },
    },
    workloadApi: { updates: { x509: 0, jwt: 0 }, rejected: { x509: 0, jwt: 0 }, reconnects: { x509: 0, jwt: 0 }, lastUpdateAt: undefined },
    bundleEndpoints: {},
  };
}

function noFiles(): Record<KeyFileState, number> {
  return { loaded: 0, stale: 0, unavailable: 0 };
}

export function countRejection(stats: IdentityStats, code: IdentityErrorCode): void {
  stats.rejections[code] = (stats.rejections[code] ?? 0) + 1;
}
