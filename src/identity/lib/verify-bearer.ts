/**
 * One bearer token, end to end: size, cache, decode, route by claims (DESIGN.md: a configured
 * `iss` → that issuer's keys; else a SPIFFE `sub` → that trust domain's JWT-SVID keys; else
 * refused), verify, cache. Synchronous on a hit and on a miss whose keys are at hand (bundles,
 * JWKS files, a fresh remote set); a Promise only when a remote key set must be fetched first.
 */
import { IdentityError } from '../errors.js';
import type { TokenSource } from './bearer-tokens.js';
import type { NormalizedIssuer, NormalizedOptions } from '../options.js';
import { parseSpiffeId, type SpiffeId } from '../../domain/index.js';
import { decodeJwt, type DecodedJwt } from './decode-jwt.js';
import type { KeyMaterial } from './key-material.js';
import type { IdentityStats } from './stats.js';
import type { TokenCache } from './token-cache.js';
import { endWith, type IdentityTracing } from './tracing.js';
import type { VerifiedToken } from './verified-token.js';
import { verifyJwtSvid } from './verify-jwt-svid.js';
import { verifyOidcToken } from './verify-oidc.js';

export interface BearerContext {
  readonly options: NormalizedOptions;
  readonly keys: KeyMaterial;
  readonly cache: TokenCache<VerifiedToken>;
  readonly now: () => number;
  readonly stats: IdentityStats;
  /** Told of each verification on a cache miss (a span of the Check's trace). */
  readonly tracing?: IdentityTracing;
}

type Route = { readonly kind: 'oidc'; readonly issuer: NormalizedIssuer } | { readonly kind: 'jwt-svid'; readonly id: SpiffeId };

/** `skipOidc`: end-user claims came from jwt_authn metadata, so an OIDC token is not re-verified. */
export function verifyBearer(
  { token, jwsShaped }: TokenSource,
  ctx: BearerContext,
  skipOidc: boolean,
): VerifiedToken | undefined | Promise<VerifiedToken> {
  // before any lookup or decoding: an oversize token costs nothing
  if (token.length > ctx.options.maxTokenBytes) {
    throw new IdentityError('ERR_JWT_TOO_LARGE', 'token', `token longer than ${ctx.options.maxTokenBytes} bytes`);
  }
  const hit = ctx.cache.get(token);
  if (hit !== undefined) {
    ctx.stats.tokenCache.hits++;
    return skipOidc && hit.kind === 'oidc' ? undefined : hit;
  }
  const jwt = decodeJwt(token, ctx.options.maxTokenBytes, jwsShaped);
  const route = routeToken(jwt, ctx.options);
  if (skipOidc && route.kind === 'oidc') return undefined;
  ctx.stats.tokenCache.misses++;
  let verified: VerifiedToken | Promise<VerifiedToken>;
  try {
    verified = endWith(ctx.tracing?.verification(route.kind), () => verifyRoute(jwt, route, ctx));
  } catch (error) {
    throw failed(route, ctx, error);
  }
  if (!(verified instanceof Promise)) return remember(token, verified, ctx);
  return verified.then(
    (done) => remember(token, done, ctx),
    (error: unknown) => Promise.reject(failed(route, ctx, error)),
  );
}

function remember(token: string, verified: VerifiedToken, ctx: BearerContext): VerifiedToken {
  ctx.stats.verifications[verified.kind].ok++;
  ctx.cache.set(token, verified, verified.expiresAt);
  return verified;
}

function failed(route: Route, ctx: BearerContext, error: unknown): unknown {
  ctx.stats.verifications[route.kind].failed++;
  return error;
}

export function routeToken(jwt: DecodedJwt, options: NormalizedOptions): Route {
  const { iss, sub } = jwt.payload;
  const issuer = typeof iss === 'string' ? options.issuers.get(iss) : undefined;
  if (issuer !== undefined) return { kind: 'oidc', issuer };
  if (typeof sub === 'string' && sub.startsWith('spiffe://')) return { kind: 'jwt-svid', id: parseSvidSubject(sub) };
  if (iss !== undefined) throw new IdentityError('ERR_JWT_ISSUER_UNKNOWN', 'token', 'iss is not a configured issuer');
  if (sub === undefined) throw new IdentityError('ERR_JWT_SUB_MISSING', 'token', 'token has neither iss nor sub');
  throw new IdentityError('ERR_JWT_SUB_NOT_SPIFFE', 'token', 'sub is not a SPIFFE ID and there is no known iss');
}

function parseSvidSubject(sub: string): SpiffeId {
  try {
    return parseSpiffeId(sub);
  } catch (cause) {
    throw new IdentityError('ERR_JWT_SUB_NOT_SPIFFE', 'token', `sub: ${(cause as Error).message}`, { cause });
  }
}

function verifyRoute(jwt: DecodedJwt, route: Route, ctx: BearerContext): VerifiedToken | Promise<VerifiedToken> {
  const nowMs = ctx.now();
  const toleranceSeconds = ctx.options.clockToleranceSeconds;
  if (route.kind === 'oidc') {
    const keys = ctx.keys.issuerKeys(route.issuer.issuer);
    if (keys === undefined) throw new IdentityError('ERR_INTERNAL', 'token', 'issuer without keys');
    return verifyOidcToken(jwt, route.issuer, keys, { nowMs, toleranceSeconds });
  }
  const svid = ctx.options.jwtSvid;
  if (svid === undefined) throw new IdentityError('ERR_JWT_SVID_NOT_CONFIGURED', 'token', 'JWT-SVIDs are not accepted (no jwtSvid config)');
  return verifyJwtSvid(jwt, route.id, { bundles: ctx.keys.bundles, audiences: svid.audiences, nowMs, toleranceSeconds });
}
