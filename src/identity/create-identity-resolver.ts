/**
 * The identity stage: AccessRequest → Subject. Synchronous unless a token's key must first be
 * fetched from a remote JWKS endpoint (then a Promise): cache hits, and misses verified with
 * bundle or JWKS-file keys or a fresh remote set, answer in the same call. Failures are
 * IdentityErrors whose `reason` the decision uses.
 *
 * Without identity config (`options` undefined) the foundation behaviour applies: Envoy's
 * `source.principal` is parsed as a SPIFFE ID and accepted as is (evidence `mtls-principal`),
 * certificates and bearer tokens are not examined.
 * With config, bearer tokens are examined only when `issuers` or `jwtSvid` is configured.
 */
import { resolve as resolvePath } from 'node:path';
import { ANONYMOUS, type AccessRequest, type EndUser, type Subject } from '../domain/index.js';
import { BoundedMemo, DEFAULT_MEMO_SIZE } from '../lib/index.js';
import { IdentityError } from './errors.js';
import { normalizeIdentityOptions, type IdentityOptions, type NormalizedOptions } from './options.js';
import { assembleSubject } from './lib/assemble-subject.js';
import { bearerTokens } from './lib/bearer-tokens.js';
import type { FetchFn } from './lib/issuer-keys.js';
import { userFromMetadata } from './lib/jwt-authn-metadata.js';
import type { KeyFileFailure } from './lib/key-file-failure.js';
import { KeyMaterial, type ReloadErrorEvent, type ReloadEvent } from './lib/key-material.js';
import { peerWorkload, principalClaim, type PeerContext, type WorkloadClaim } from './lib/peer-identity.js';
import { countRejection, createStats, type IdentityStats } from './lib/stats.js';
import { TokenCache, VerificationCache } from './lib/token-cache.js';
import { tracedFetch, type IdentityTracing } from './lib/tracing.js';
import { verifyBearer, type BearerContext } from './lib/verify-bearer.js';
import type { VerifiedToken } from './lib/verified-token.js';
import { watchFiles, type WatchFn } from './lib/watch-files.js';
import type { VerifiedX509Svid } from './lib/x509-svid.js';
import type { ReconnectDelays } from './workload-api/bundle-streams.js';
import type { BundleEndpointTiming } from './bundle-endpoint/bundle-endpoint.js';

export interface IdentityResolverDeps {
  /** Directory that relative file paths of the config are resolved against. */
  readonly baseDir: string;
  /** Clock in epoch milliseconds (default Date.now). */
  readonly now?: () => number;
  /** Fetch used for remote JWKS (default globalThis.fetch). */
  readonly fetch?: FetchFn;
  /** Watch key files for changes (default true); or a watcher of your own. */
  readonly watch?: boolean | WatchFn;
  /** Parsed peer principals remembered, least recently used first out (default DEFAULT_MEMO_SIZE). */
  readonly principalMemoSize?: number;
  /** Delays before a failed Workload API stream is opened again (default 0.5 s doubling to 30 s). */
  readonly workloadApiReconnect?: ReconnectDelays;
  /** Poll bounds of bundle endpoints (default: every 10 s at most, every hour at least, retries from 1 s). */
  readonly bundleEndpointTiming?: BundleEndpointTiming;
  /** Told of verifications on a token-cache miss and of key-set fetches, for traces (default: none). */
  readonly tracing?: IdentityTracing;
}

export interface IdentityResolver {
  /** Throws (or rejects with) IdentityError; never answers for a credential it could not verify. */
  resolve(request: AccessRequest): Subject | Promise<Subject>;
  /** Every configured bundle, roots and JWKS file loaded at least once, and the Workload API's first full update arrived. */
  readonly ready: boolean;
  /** The key files whose last load failed, and why (for readiness, `/policy` and the log at start). */
  readonly failures: readonly KeyFileFailure[];
  readonly stats: IdentityStats;
  on(event: 'reload', listener: (event: ReloadEvent) => void): () => void;
  on(event: 'error', listener: (event: ReloadErrorEvent) => void): () => void;
  /** Re-reads every key file now (the watcher does this on change). */
  reload(): Promise<void>;
  close(): void;
}

export async function createIdentityResolver(
  options: IdentityOptions | undefined,
  deps: IdentityResolverDeps,
): Promise<IdentityResolver> {
  if (typeof deps?.baseDir !== 'string') throw new TypeError('createIdentityResolver: deps.baseDir must be a string');
  const memoSize = deps.principalMemoSize ?? DEFAULT_MEMO_SIZE;
  if (options === undefined) return foundationResolver(memoSize);
  const normalized = normalizeIdentityOptions(options, (file) => resolvePath(deps.baseDir, file));
  const resolver = new ConfiguredResolver(normalized, deps, new BoundedMemo(memoSize));
  await resolver.reload();
  const watch = deps.watch ?? true;
  if (watch !== false) resolver.watch(watch === true ? watchFiles : watch);
  return resolver;
}

function foundationResolver(memoSize: number): IdentityResolver {
  const stats = createStats();
  // One frozen Subject per principal text: no parse and no allocation per request.
  const subjects = new BoundedMemo<Subject>(memoSize);
  const subjectOf = (principal: string): Subject => {
    const claim = principalClaim(principal);
    return Object.freeze({ workload: claim.id, workloadEvidence: claim.evidence });
  };
  return {
    resolve(request) {
      try {
        const principal = request.source.principal;
        return principal === undefined || principal === '' ? ANONYMOUS : subjects.get(principal, subjectOf);
      } catch (error) {
        throw rejected(stats, error);
      }
    },
    ready: true,
    failures: [],
    stats,
    on: () => () => undefined,
    reload: async () => undefined,
    close: () => undefined,
  };
}

function rejected(stats: IdentityStats, error: unknown): IdentityError {
  const identityError =
    error instanceof IdentityError ? error : new IdentityError('ERR_INTERNAL', 'token', String(error), { cause: error });
  countRejection(stats, identityError.code);
  return identityError;
}

const BEARER_SCHEME = 'Bearer ';

type Listeners = { reload: Set<(event: ReloadEvent) => void>; error: Set<(event: ReloadErrorEvent) => void> };

class ConfiguredResolver implements IdentityResolver {
  readonly stats = createStats();
  readonly #options: NormalizedOptions;
  readonly #keys: KeyMaterial;
  readonly #listeners: Listeners = { reload: new Set(), error: new Set() };
  readonly #peer: PeerContext;
  readonly #bearer: BearerContext;
  readonly #now: () => number;
  readonly #examineTokens: boolean;
  /** A JWT-SVID header other than authorization, which the one-token fast path must find absent. */
  readonly #otherTokenHeader: string | undefined;
  readonly #maxAuthorizationLength: number;

  constructor(options: NormalizedOptions, deps: IdentityResolverDeps, principals: BoundedMemo<WorkloadClaim>) {
    this.#options = options;
    this.#now = deps.now ?? Date.now;
    this.#keys = new KeyMaterial(options, {
      fetch: tracedFetch(deps.fetch ?? ((url, init) => fetch(url, init)), deps.tracing),
      now: this.#now,
      stats: this.stats,
      onReload: (event) => this.#onReload(event),
      onError: (event) => this.#listeners.error.forEach((listener) => listener(event)),
      ...(deps.workloadApiReconnect ? { workloadApiReconnect: deps.workloadApiReconnect } : {}),
      ...(deps.bundleEndpointTiming ? { bundleEndpointTiming: deps.bundleEndpointTiming } : {}),
    });
    const cacheOptions = { ...options.tokenCache, now: this.#now };
    const common = { options, now: this.#now, stats: this.stats };
    this.#peer = { ...common, bundles: this.#keys.bundles, cache: new VerificationCache<VerifiedX509Svid>(cacheOptions), principals };
    this.#bearer = { ...common, keys: this.#keys, cache: new TokenCache<VerifiedToken>(cacheOptions), ...(deps.tracing ? { tracing: deps.tracing } : {}) };
    this.#examineTokens = options.issuers.size > 0 || options.jwtSvid !== undefined;
    const svidHeader = options.jwtSvid?.header;
    this.#otherTokenHeader = svidHeader === 'authorization' ? undefined : svidHeader;
    this.#maxAuthorizationLength = BEARER_SCHEME.length + options.maxTokenBytes;
  }

  get ready(): boolean {
    return this.#keys.ready;
  }

  get failures(): readonly KeyFileFailure[] {
    return this.#keys.failures;
  }

  resolve(request: AccessRequest): Subject | Promise<Subject> {
    try {
      const peer = peerWorkload(request, this.#peer);
      const metadataUser = this.#metadataUser(request);
      if (metadataUser === undefined) {
        const hit = this.#soleTokenHit(request.headers);
        if (hit !== undefined) return peer === undefined ? hit.subject : assembleSubject(peer, [hit], undefined, this.#options.precedence);
      }
      const tokens = this.#examineTokens ? bearerTokens(request.headers, this.#options.jwtSvid?.header) : [];
      const verified = tokens.map((source) => verifyBearer(source, this.#bearer, metadataUser !== undefined));
      this.#refreshCacheSize();
      const precedence = this.#options.precedence;
      const only = verified.length === 1 ? verified[0] : undefined;
      // one token and nothing else: the Subject it alone establishes was built when it was verified
      if (peer === undefined && metadataUser === undefined && only !== undefined && !(only instanceof Promise)) return only.subject;
      if (!verified.some((v) => v instanceof Promise)) {
        return assembleSubject(peer, verified as (VerifiedToken | undefined)[], metadataUser, precedence);
      }
      return Promise.all(verified).then(
        (done) => this.#afterAsync(() => assembleSubject(peer, done, metadataUser, precedence)),
        (error: unknown) => this.#afterAsync(() => Promise.reject(error)),
      );
    } catch (error) {
      throw rejected(this.stats, error);
    }
  }

  on(event: 'reload' | 'error', listener: ((event: ReloadEvent) => void) & ((event: ReloadErrorEvent) => void)): () => void {
    const set = this.#listeners[event] as Set<typeof listener>;
    set.add(listener);
    return () => set.delete(listener);
  }

  reload(): Promise<void> {
    return this.#keys.reloadAll();
  }

  watch(watchFn: WatchFn): void {
    this.#keys.watch(watchFn);
  }

  close(): void {
    this.#keys.close();
  }

  /**
   * The common case, answered without parsing: one `Bearer` token (beside the peer's own
   * identity, if any) found in the cache. The key is a token that passed the full parse and verification, so an exact
   * match stands for both; every other spelling takes the full path, which finds hits too.
   */
  #soleTokenHit(headers: ReadonlyMap<string, string>): VerifiedToken | undefined {
    if (!this.#examineTokens) return undefined;
    const authorization = headers.get('authorization');
    if (authorization === undefined || authorization.length > this.#maxAuthorizationLength) return undefined;
    if (!authorization.startsWith(BEARER_SCHEME)) return undefined;
    if (this.#otherTokenHeader !== undefined && headers.has(this.#otherTokenHeader)) return undefined;
    const hit = this.#bearer.cache.get(authorization.slice(BEARER_SCHEME.length));
    if (hit === undefined) return undefined;
    this.stats.tokenCache.hits++;
    return hit;
  }

  #metadataUser(request: AccessRequest): EndUser | undefined {
    const metadata = this.#options.jwtAuthnMetadata;
    if (metadata === undefined) return undefined;
    const user = userFromMetadata(request, { ...metadata, issuers: this.#options.issuers, nowMs: this.#now() });
    if (user !== undefined) this.stats.verifications['jwt-authn-metadata'].ok++;
    return user;
  }

  async #afterAsync<T>(finish: () => T | Promise<T>): Promise<T> {
    this.#refreshCacheSize();
    try {
      return await finish();
    } catch (error) {
      throw rejected(this.stats, error);
    }
  }

  #refreshCacheSize(): void {
    this.stats.tokenCache.entries = this.#peer.cache.size + this.#bearer.cache.size;
  }

  #onReload(event: ReloadEvent): void {
    // keys changed: whatever was verified with the old ones must be verified again
    this.#peer.cache.clear();
    this.#bearer.cache.clear();
    this.#refreshCacheSize();
    this.#listeners.reload.forEach((listener) => listener(event));
  }
}
