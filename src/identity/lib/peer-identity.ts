/**
 * The calling workload as the connection shows it: Envoy's `source.principal`, optionally its
 * verified peer certificate, or (opt-in) the last element of `x-forwarded-client-cert`.
 * Synchronous, with verified certificates cached like tokens.
 */
import { parseSpiffeId, SpiffeIdError, type AccessRequest, type SpiffeId, type WorkloadEvidence } from '../../domain/index.js';
import { IdentityError, type CredentialKind } from '../errors.js';
import type { NormalizedOptions } from '../options.js';
import type { SpiffeBundle } from '../parse-spiffe-bundle.js';
import type { BoundedMemo } from '../../lib/index.js';
import { parseXfcc } from '../parse-xfcc.js';
import type { IdentityStats } from './stats.js';
import { VerificationCache } from './token-cache.js';
import type { BundleLookup } from './verified-token.js';
import { verifyX509Svid, type VerifiedX509Svid } from './x509-svid.js';

export interface WorkloadClaim {
  readonly id: SpiffeId;
  readonly evidence: WorkloadEvidence;
  /** Epoch seconds (certificate notAfter), when a certificate was verified. */
  readonly expiresAt?: number;
}

export interface PeerContext {
  readonly options: NormalizedOptions;
  readonly bundles: BundleLookup;
  readonly cache: VerificationCache<VerifiedX509Svid>;
  readonly now: () => number;
  readonly stats: IdentityStats;
  /** Frozen claims by principal text: the same text always parses to the same claim. */
  readonly principals: BoundedMemo<WorkloadClaim>;
}

const XFCC = 'x-forwarded-client-cert';

/** The principal as Envoy reports it, parsed and accepted; undefined without one. */
function principalOnly(request: AccessRequest, principals: BoundedMemo<WorkloadClaim>): WorkloadClaim | undefined {
  const principal = request.source.principal;
  if (principal === undefined || principal === '') return undefined;
  return principals.get(principal, principalClaim);
}

/** The claim of a non-empty principal text; throws IdentityError when it is not a SPIFFE ID. */
export function principalClaim(principal: string): WorkloadClaim {
  return Object.freeze({ id: parsePrincipal(principal, 'principal'), evidence: 'mtls-principal' });
}

export function peerWorkload(request: AccessRequest, ctx: PeerContext): WorkloadClaim | undefined {
  if (ctx.options.trustForwardedClientCert) {
    const xfcc = request.headers.get(XFCC);
    if (xfcc !== undefined) return fromXfcc(xfcc, ctx);
  }
  const claim = principalOnly(request, ctx.principals);
  if (claim === undefined) return undefined;
  const bundle = trustedBundle(claim.id, ctx, 'principal');
  if (!ctx.options.verifyPeerCertificate) return claim;
  const certificate = request.source.certificate;
  if (certificate === undefined || certificate === '') {
    throw new IdentityError('ERR_X509_MISSING', 'certificate', 'verifyPeerCertificate is on but Envoy sent no peer certificate');
  }
  const verified = verifyCached(certificate, undefined, bundle, ctx, 'certificate');
  checkSan(verified, claim.id, 'certificate');
  return { id: claim.id, evidence: 'x509-svid', expiresAt: verified.notAfter };
}

function fromXfcc(header: string, ctx: PeerContext): WorkloadClaim {
  const element = parseXfcc(header).at(-1);
  if (element === undefined || element.uri.length !== 1) {
    throw new IdentityError('ERR_XFCC_URI_COUNT', 'xfcc', 'the nearest XFCC element must carry exactly one URI');
  }
  const id = parsePrincipal(element.uri[0] as string, 'xfcc');
  const bundle = trustedBundle(id, ctx, 'xfcc');
  if (!ctx.options.verifyPeerCertificate) return { id, evidence: 'xfcc' };
  if (element.cert === undefined) throw new IdentityError('ERR_X509_MISSING', 'xfcc', 'XFCC element has no Cert');
  const verified = verifyCached(element.cert, element.chain, bundle, ctx, 'xfcc');
  checkSan(verified, id, 'xfcc');
  return { id, evidence: 'xfcc', expiresAt: verified.notAfter };
}

function parsePrincipal(text: string, credential: CredentialKind): SpiffeId {
  try {
    return parseSpiffeId(text);
  } catch (error) {
    const code = error instanceof SpiffeIdError ? error.code : 'ERR_PRINCIPAL_NOT_SPIFFE';
    throw new IdentityError(code, credential, `peer principal: ${(error as Error).message}`, { cause: error });
  }
}

function trustedBundle(id: SpiffeId, ctx: PeerContext, credential: CredentialKind): SpiffeBundle {
  const state = ctx.bundles(id.trustDomain);
  if (state === undefined) {
    throw new IdentityError('ERR_TRUST_DOMAIN_UNTRUSTED', credential, `trust domain ${id.trustDomain} is not configured`);
  }
  if (state.bundle === undefined) {
    throw new IdentityError('ERR_TRUST_DOMAIN_UNAVAILABLE', credential, `bundle of ${id.trustDomain} never loaded`);
  }
  if (state.bundle.x509Authorities.length === 0) {
    throw new IdentityError('ERR_BUNDLE_EMPTY', credential, `bundle of ${id.trustDomain} has no X.509 authority`);
  }
  return state.bundle;
}

function checkSan(verified: VerifiedX509Svid, id: SpiffeId, credential: CredentialKind): void {
  if (verified.uri !== id.uri) {
    throw new IdentityError('ERR_X509_URI_SAN_MISMATCH', credential, 'certificate URI SAN differs from the principal');
  }
}

function verifyCached(
  encodedPem: string,
  encodedChain: string | undefined,
  bundle: SpiffeBundle,
  ctx: PeerContext,
  credential: 'certificate' | 'xfcc',
): VerifiedX509Svid {
  const key = VerificationCache.keyOf('x', `${encodedPem}|${encodedChain ?? ''}`);
  const hit = ctx.cache.get(key);
  if (hit !== undefined) {
    ctx.stats.tokenCache.hits++;
    return hit;
  }
  ctx.stats.tokenCache.misses++;
  const kind = credential === 'xfcc' ? 'xfcc' : 'x509-svid';
  try {
    const verified = verifyX509Svid(urlDecode(encodedPem, credential), encodedChain && urlDecode(encodedChain, credential), {
      roots: bundle.x509Authorities,
      nowMs: ctx.now(),
      toleranceMs: ctx.options.clockToleranceSeconds * 1000,
      credential,
    });
    ctx.stats.verifications[kind].ok++;
    ctx.cache.set(key, verified, verified.notAfter);
    return verified;
  } catch (error) {
    ctx.stats.verifications[kind].failed++;
    throw error;
  }
}

function urlDecode(text: string, credential: CredentialKind): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new IdentityError('ERR_X509_MALFORMED', credential, 'certificate is not valid URL-encoded PEM', { cause });
  }
}
