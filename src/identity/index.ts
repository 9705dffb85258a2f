/** identity/: who is calling. SPIFFE IDs, X.509-SVID, JWT-SVID and OIDC verification, trust bundles, token cache. */
export { createIdentityResolver } from './create-identity-resolver.js';
export type { IdentityResolver, IdentityResolverDeps } from './create-identity-resolver.js';
export type { IdentityOptions, TrustDomainOptions, IssuerOptions, WorkloadApiOptions } from './options.js';
export { IdentityError, BundleError, BUNDLE_ERROR_CODES } from './errors.js';
export type { IdentityErrorCode, CredentialKind, BundleErrorCode } from './errors.js';
export { spiffeIdOfCertificate } from './certificate-spiffe-id.js';
export { parseXfcc } from './parse-xfcc.js';
export type { XfccElement } from './parse-xfcc.js';
export { parseSpiffeBundle, parseRootsPem } from './parse-spiffe-bundle.js';
export type { SpiffeBundle, JwtAuthority } from './parse-spiffe-bundle.js';
export type { IdentityStats, JwksFetchStats, VerificationKind } from './lib/stats.js';
export type { ReloadEvent, ReloadErrorEvent, KeySource } from './lib/key-material.js';
export type { KeyFileFailure } from './lib/key-file-failure.js';
export { KEY_SOURCES } from './lib/stats.js';
export type { KeyFileStats, KeyFileState, WorkloadApiStats } from './lib/stats.js';
export type { FetchFn } from './lib/issuer-keys.js';
export type { WatchFn } from './lib/watch-files.js';
export type { IdentityTracing, SpanEnd } from './lib/tracing.js';
