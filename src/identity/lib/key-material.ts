/**
 * Every key the resolver trusts: per trust domain a bundle or roots file, per issuer a JWKS
 * file or URI. Files are loaded at start, reloaded when they change, and a bad file keeps the
 * last good keys. Listeners hear every outcome; the token cache is cleared when keys change,
 * so a key removed from a bundle stops validating at once.
 *
 * A failure is loud, not a flood: it stays listed in `failures` (readiness, `/policy`) and is
 * told to listeners when it happens. A reload asked for (start, SIGHUP) tells every failure; one
 * the watcher or the retry timer started tells only a failure that differs from the last told.
 * A failing file is retried at a slow, growing interval, for a directory no watch could reach.
 * With `workloadApi`, the agent's bundle streams answer for the trust domains they carry
 * (workload-api/): their failures are listed and told beside the files'. A trust domain with a
 * `bundleEndpoint` is polled (bundle-endpoint/) instead of read from a file: it counts, fails,
 * is told and makes readiness wait as a file does, and the Workload API falls back to it as to
 * a file for a domain the agent does not stream.
 */
import type { BundleError } from '../errors.js';
import type { NormalizedOptions } from '../options.js';
import { parseRootsPem, parseSpiffeBundle, type SpiffeBundle } from '../parse-spiffe-bundle.js';
import { fileIssuerKeys, parseJwksFile, remoteIssuerKeys, type FetchFn, type IssuerKeys } from './issuer-keys.js';
import type { JwkSet } from './jwk-set.js';
import { keyFileFailure, sameFailure, type KeyFileFailure, type KeyFileName, type KeySource } from './key-file-failure.js';
import { RetryTimer } from './retry-timer.js';
import { createBundleEndpointStats, KEY_SOURCES, type IdentityStats } from './stats.js';
import type { BundleLookup } from './verified-token.js';
import { WatchedFile, type ReloadOutcome } from './watched-file.js';
import { BundleEndpoint, DEFAULT_BUNDLE_ENDPOINT_TIMING, type BundleEndpointTiming } from '../bundle-endpoint/bundle-endpoint.js';
import { WorkloadApiSource } from '../workload-api/workload-api-source.js';
import type { ReconnectDelays } from '../workload-api/bundle-streams.js';
import type { WatchFn } from './watch-files.js';

export type { KeySource } from './key-file-failure.js';

export interface ReloadEvent {
  readonly source: KeySource;
  /** Trust domain name or issuer. */
  readonly name: string;
  readonly path: string;
  readonly sequence?: number;
  readonly x509Authorities?: number;
  readonly jwtAuthorities?: number;
  readonly ignoredKeys?: number;
  /** The trust domain left the Workload API's streams: untrusted from now on. */
  readonly withdrawn?: boolean;
}

export interface ReloadErrorEvent extends KeyFileFailure {
  readonly error: BundleError;
}

export interface KeyMaterialDeps {
  readonly fetch: FetchFn;
  readonly now: () => number;
  readonly stats: IdentityStats;
  readonly onReload: (event: ReloadEvent) => void;
  readonly onError: (event: ReloadErrorEvent) => void;
  /** Reconnect delays of the Workload API streams (tests shorten them). */
  readonly workloadApiReconnect?: ReconnectDelays;
  /** Poll bounds of bundle endpoints (tests shorten them). */
  readonly bundleEndpointTiming?: BundleEndpointTiming;
}

interface Watched extends KeyFileName {
  readonly file: WatchedFile<SpiffeBundle> | WatchedFile<JwkSet>;
  /** Why its last load failed; undefined while it is good. */
  failure?: KeyFileFailure;
  /** The failure listeners last heard of. */
  told?: KeyFileFailure;
}

/** Whether a failure is told even when it is the one told last. */
type Telling = 'every-failure' | 'changed-failure';

export class KeyMaterial {
  readonly #bundles = new Map<string, WatchedFile<SpiffeBundle>>();
  readonly #issuerKeys = new Map<string, IssuerKeys>();
  readonly #files: Watched[] = [];
  readonly #endpoints = new Map<string, BundleEndpoint>();
  readonly #deps: KeyMaterialDeps;
  readonly #retry = new RetryTimer(() => this.#refreshFailing());
  readonly #workloadApi: WorkloadApiSource | undefined;
  #unwatch: (() => void) | undefined;
  #closed = false;

  constructor(options: NormalizedOptions, deps: KeyMaterialDeps) {
    this.#deps = deps;
    for (const domain of options.trustDomains.values()) {
      if (domain.kind === 'endpoint') {
        this.#endpoints.set(domain.name, this.#bundleEndpoint(domain.name, domain.endpoint));
        continue;
      }
      const file = new WatchedFile(domain.file, domain.kind === 'bundle' ? parseSpiffeBundle : parseRootsPem);
      this.#bundles.set(domain.name, file);
      const label = `trust ${domain.kind === 'bundle' ? 'bundle' : 'roots'} ${domain.name}`;
      this.#files.push({ source: 'trust-domain', name: domain.name, path: file.path, label, file });
    }
    for (const issuer of options.issuers.values()) {
      if ('uri' in issuer.jwks) {
        this.#issuerKeys.set(issuer.issuer, remoteIssuerKeys(issuer, issuer.jwks.uri, { ...deps, stats: deps.stats.jwksFetches }));
        continue;
      }
      const file = new WatchedFile(issuer.jwks.file, parseJwksFile);
      this.#issuerKeys.set(issuer.issuer, fileIssuerKeys(issuer, () => file.value));
      this.#files.push({ source: 'issuer', name: issuer.issuer, path: file.path, label: `JWKS file of ${issuer.issuer}`, file });
    }
    this.#workloadApi = startWorkloadApi(options, this.#fileBundles, deps);
    if (this.#workloadApi !== undefined) this.bundles = this.#workloadApi.lookup;
  }

  /** The configured sources: a file, or a bundle endpoint. */
  readonly #fileBundles: BundleLookup = (trustDomain) => {
    const file = this.#bundles.get(trustDomain) ?? this.#endpoints.get(trustDomain);
    return file === undefined ? undefined : { bundle: file instanceof BundleEndpoint ? file.bundle : file.value };
  };

  /** The Workload API's bundles where it is configured (falling back to files as it says), else the files. */
  readonly bundles: BundleLookup = this.#fileBundles;

  issuerKeys(issuer: string): IssuerKeys | undefined {
    return this.#issuerKeys.get(issuer);
  }

  /**
   * True once every key file loaded at least once (remote JWKS load lazily and do not count),
   * every bundle endpoint delivered a good bundle, and the Workload API's first full update arrived.
   */
  get ready(): boolean {
    const endpoints = [...this.#endpoints.values()].every(({ bundle }) => bundle !== undefined);
    return this.#files.every(({ file }) => file.value !== undefined) && endpoints && (this.#workloadApi?.ready ?? true);
  }

  /** The files whose last load failed, and why; then the bundle endpoints, then the Workload API streams that are failing. */
  get failures(): KeyFileFailure[] {
    const files = this.#files.flatMap(({ failure }) => (failure === undefined ? [] : [failure]));
    const endpoints = [...this.#endpoints.values()].flatMap(({ failure }) => (failure === undefined ? [] : [failure]));
    return [...files, ...endpoints, ...(this.#workloadApi?.failures ?? [])];
  }

  /** Reads every file and polls every bundle endpoint again, telling every failure; resolves when all outcomes were reported. */
  async reloadAll(): Promise<void> {
    await Promise.all([
      ...this.#files.map(async (watched) => this.#settle(watched, await watched.file.reload(), 'every-failure')),
      ...[...this.#endpoints.values()].map((endpoint) => endpoint.refresh('every-failure')),
    ]);
  }

  watch(watchFn: WatchFn): void {
    const byPath = new Map(this.#files.map((watched) => [watched.file.path, watched]));
    this.#unwatch = watchFn([...byPath.keys()], (path) => {
      const watched = byPath.get(path);
      if (watched !== undefined) void this.#refresh(watched);
    });
  }

  close(): void {
    this.#closed = true;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#retry.stop();
    for (const endpoint of this.#endpoints.values()) endpoint.close();
    this.#workloadApi?.close();
  }

  #bundleEndpoint(name: string, endpoint: BundleEndpoint['endpoint']): BundleEndpoint {
    const stats = (this.#deps.stats.bundleEndpoints[name] = createBundleEndpointStats());
    return new BundleEndpoint(name, endpoint, {
      now: this.#deps.now,
      stats,
      timing: this.#deps.bundleEndpointTiming ?? DEFAULT_BUNDLE_ENDPOINT_TIMING,
      listener: {
        loaded: (bundle) => {
          this.#countFiles();
          this.#deps.onReload({ source: 'trust-domain', name, path: endpoint.url.href, ...describe(bundle) });
        },
        failed: (failure, error, tell) => {
          this.#countFiles();
          this.#countFailure('trust-domain', error.code);
          if (tell) this.#deps.onError({ ...failure, error });
        },
      },
    });
  }

  async #refresh(watched: Watched): Promise<void> {
    this.#settle(watched, await watched.file.refresh(), 'changed-failure');
  }

  async #refreshFailing(): Promise<void> {
    await Promise.all(this.#files.filter((watched) => watched.failure !== undefined).map((watched) => this.#refresh(watched)));
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    // the files' retry only: the Workload API streams reconnect on their own
    if (this.#closed || this.#files.every(({ failure }) => failure === undefined)) this.#retry.stop();
    else this.#retry.start();
  }

  #settle(watched: Watched, outcome: ReloadOutcome<unknown>, telling: Telling): void {
    switch (outcome.status) {
      case 'skipped':
        return;
      case 'failed':
        this.#failed(watched, outcome.error, outcome.keptLastGood, telling);
        break;
      case 'loaded':
      case 'unchanged': {
        const recovered = watched.failure !== undefined;
        watched.failure = watched.told = undefined;
        const value = outcome.status === 'loaded' ? outcome.value : watched.file.value;
        if (outcome.status === 'loaded' || recovered) this.#deps.onReload({ source: watched.source, name: watched.name, path: watched.path, ...describe(value) });
        break;
      }
    }
    this.#countFiles();
    this.#scheduleRetry();
  }

  #failed(watched: Watched, error: BundleError, keptLastGood: boolean, telling: Telling): void {
    const failure = keyFileFailure(watched, error, keptLastGood);
    this.#countFailure(watched.source, error.code);
    watched.failure = failure;
    if (telling === 'changed-failure' && sameFailure(watched.told, failure)) return;
    watched.told = failure;
    this.#deps.onError({ ...failure, error });
  }

  #countFailure(source: KeySource, code: BundleError['code']): void {
    const counts = this.#deps.stats.keyFiles.failures[source];
    counts[code] = (counts[code] ?? 0) + 1;
  }

  /** Key files and bundle endpoints by state (an endpoint is a trust domain's key file fetched over HTTPS). */
  #countFiles(): void {
    const files = this.#deps.stats.keyFiles.files;
    for (const source of KEY_SOURCES) files[source] = { loaded: 0, stale: 0, unavailable: 0 };
    for (const { source, file, failure } of this.#files) {
      files[source][file.value === undefined ? 'unavailable' : failure === undefined ? 'loaded' : 'stale']++;
    }
    for (const { bundle, failure } of this.#endpoints.values()) {
      files['trust-domain'][bundle === undefined ? 'unavailable' : failure === undefined ? 'loaded' : 'stale']++;
    }
  }
}

function startWorkloadApi(options: NormalizedOptions, files: BundleLookup, deps: KeyMaterialDeps): WorkloadApiSource | undefined {
  if (options.workloadApi === undefined) return undefined;
  const { now, stats, onReload, onError, workloadApiReconnect } = deps;
  const source = new WorkloadApiSource(options.workloadApi.socket, files, { now, stats, onReload, onError, ...(workloadApiReconnect ? { reconnect: workloadApiReconnect } : {}) });
  source.start();
  return source;
}

function describe(value: unknown): Partial<ReloadEvent> {
  if (value === undefined || Array.isArray(value)) return {}; // a JWK Set: nothing more to say than that it loaded
  const bundle = value as SpiffeBundle;
  return {
    ...(bundle.sequence === undefined ? {} : { sequence: bundle.sequence }),
    x509Authorities: bundle.x509Authorities.length,
    jwtAuthorities: bundle.jwtAuthorities.size,
    ignoredKeys: bundle.ignoredKeys,
  };
}
