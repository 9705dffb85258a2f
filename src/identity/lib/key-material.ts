/**
 * Every key the resolver trusts: per trust domain a bundle or roots file, per issuer a JWKS
 * file or URI. Files are loaded at start, reloaded when they change, and a bad file keeps the
 * last good keys. Listeners hear every outcome; the token cache is cleared when keys change,
 * so a key removed from a bundle stops validating at once.
 */
import type { BundleError } from '../errors.js';
import type { NormalizedOptions } from '../options.js';
import { parseRootsPem, parseSpiffeBundle, type SpiffeBundle } from '../parse-spiffe-bundle.js';
import { fileIssuerKeys, parseJwksFile, remoteIssuerKeys, type FetchFn, type IssuerKeys } from './issuer-keys.js';
import type { JwkSet } from './jwk-set.js';
import type { IdentityStats } from './stats.js';
import type { BundleLookup } from './verified-token.js';
import { WatchedFile, type ReloadOutcome } from './watched-file.js';
import type { WatchFn } from './watch-files.js';

export type KeySource = 'trust-domain' | 'issuer';

export interface ReloadEvent {
  readonly source: KeySource;
  /** Trust domain name or issuer. */
  readonly name: string;
  readonly path: string;
  readonly sequence?: number;
  readonly x509Authorities?: number;
  readonly jwtAuthorities?: number;
  readonly ignoredKeys?: number;
}

export interface ReloadErrorEvent {
  readonly source: KeySource;
  readonly name: string;
  readonly path: string;
  readonly error: BundleError;
  /** False when nothing was ever loaded from this file: its keys are unavailable. */
  readonly keptLastGood: boolean;
}

export interface KeyMaterialDeps {
  readonly fetch: FetchFn;
  readonly now: () => number;
  readonly stats: IdentityStats;
  readonly onReload: (event: ReloadEvent) => void;
  readonly onError: (event: ReloadErrorEvent) => void;
}

type Watched = { source: KeySource; name: string; file: WatchedFile<SpiffeBundle> | WatchedFile<JwkSet> };

export class KeyMaterial {
  readonly #bundles = new Map<string, WatchedFile<SpiffeBundle>>();
  readonly #issuerKeys = new Map<string, IssuerKeys>();
  readonly #files: Watched[] = [];
  readonly #deps: KeyMaterialDeps;
  #unwatch: (() => void) | undefined;

  constructor(options: NormalizedOptions, deps: KeyMaterialDeps) {
    this.#deps = deps;
    for (const domain of options.trustDomains.values()) {
      const file = new WatchedFile(domain.file, domain.kind === 'bundle' ? parseSpiffeBundle : parseRootsPem);
      this.#bundles.set(domain.name, file);
      this.#files.push({ source: 'trust-domain', name: domain.name, file });
    }
    for (const issuer of options.issuers.values()) {
      if ('uri' in issuer.jwks) {
        this.#issuerKeys.set(issuer.issuer, remoteIssuerKeys(issuer, issuer.jwks.uri, { ...deps, stats: deps.stats.jwksFetches }));
        continue;
      }
      const file = new WatchedFile(issuer.jwks.file, parseJwksFile);
      this.#issuerKeys.set(issuer.issuer, fileIssuerKeys(issuer, () => file.value));
      this.#files.push({ source: 'issuer', name: issuer.issuer, file });
    }
  }

  readonly bundles: BundleLookup = (trustDomain) => {
    const file = this.#bundles.get(trustDomain);
    return file === undefined ? undefined : { bundle: file.value };
  };

  issuerKeys(issuer: string): IssuerKeys | undefined {
    return this.#issuerKeys.get(issuer);
  }

  /** True once every key file loaded at least once (remote JWKS load lazily and do not count). */
  get ready(): boolean {
    return this.#files.every(({ file }) => file.value !== undefined);
  }

  /** Reads every file again; resolves when all outcomes were reported. */
  async reloadAll(): Promise<void> {
    await Promise.all(this.#files.map((watched) => this.#reload(watched)));
  }

  watch(watchFn: WatchFn): void {
    const byPath = new Map(this.#files.map((watched) => [watched.file.path, watched]));
    this.#unwatch = watchFn([...byPath.keys()], (path) => {
      const watched = byPath.get(path);
      if (watched !== undefined) void this.#reload(watched);
    });
  }

  close(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  async #reload(watched: Watched): Promise<void> {
    const outcome: ReloadOutcome<unknown> = await watched.file.reload();
    const base = { source: watched.source, name: watched.name, path: watched.file.path };
    if (outcome.status === 'failed') this.#deps.onError({ ...base, error: outcome.error, keptLastGood: outcome.keptLastGood });
    if (outcome.status === 'loaded') this.#deps.onReload({ ...base, ...describe(outcome.value) });
  }
}

function describe(value: unknown): Partial<ReloadEvent> {
  if (Array.isArray(value)) return {}; // a JWK Set: nothing more to say than that it loaded
  const bundle = value as SpiffeBundle;
  return {
    ...(bundle.sequence === undefined ? {} : { sequence: bundle.sequence }),
    x509Authorities: bundle.x509Authorities.length,
    jwtAuthorities: bundle.jwtAuthorities.size,
    ignoredKeys: bundle.ignoredKeys,
  };
}
