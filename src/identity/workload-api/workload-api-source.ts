/**
 * Trust bundles fed by the SPIFFE Workload API: every update of the X.509 and JWT bundle streams
 * replaces the bundles of the domains it carries, and what it refuses or cannot reach leaves the
 * last good bundles serving. Listeners hear each update and each failure (the log), readiness
 * waits for the first full update, the counters say how the stream fares (metrics).
 */
import { BundleError } from '../errors.js';
import { sameFailure, type KeyFileFailure } from '../lib/key-file-failure.js';
import type { BundleLookup } from '../lib/verified-token.js';
import type { IdentityStats } from '../lib/stats.js';
import type { ReloadErrorEvent, ReloadEvent } from '../lib/key-material.js';
import { BundleStreams, type ReconnectDelays, type StreamFailure } from './bundle-streams.js';
import { parseJwtUpdate, parseX509Update, type BundleStream, type RawBundleUpdate } from './parse-bundle-update.js';
import { WorkloadBundles } from './workload-bundles.js';

export interface WorkloadApiDeps {
  readonly now: () => number;
  readonly stats: IdentityStats;
  readonly onReload: (event: ReloadEvent) => void;
  readonly onError: (event: ReloadErrorEvent) => void;
  readonly reconnect?: ReconnectDelays;
}

const STREAM_LABELS: Record<BundleStream, string> = { x509: 'X.509 bundles', jwt: 'JWT bundles' };

export class WorkloadApiSource {
  readonly #bundles: WorkloadBundles;
  readonly #streams: BundleStreams;
  readonly #socket: string;
  readonly #deps: WorkloadApiDeps;
  readonly #failures: Partial<Record<BundleStream, KeyFileFailure>> = {};
  /** The failure listeners last heard of, per stream: a retry that fails the same way is not news. */
  readonly #told: Partial<Record<BundleStream, KeyFileFailure>> = {};

  constructor(socket: string, files: BundleLookup, deps: WorkloadApiDeps) {
    this.#socket = socket;
    this.#deps = deps;
    this.#bundles = new WorkloadBundles(files);
    this.#streams = new BundleStreams(socket, { update: (s, m) => this.#update(s, m), failed: (s, f, ms) => this.#streamFailed(s, f, ms) }, deps.reconnect);
  }

  readonly lookup: BundleLookup = (trustDomain) => this.#bundles.lookup(trustDomain);

  /** The first update of both streams arrived. */
  get ready(): boolean {
    return this.#bundles.complete;
  }

  get failures(): KeyFileFailure[] {
    return Object.values(this.#failures);
  }

  start(): void {
    this.#streams.start();
  }

  close(): void {
    this.#streams.close();
  }

  #update(stream: BundleStream, message: RawBundleUpdate): void {
    const counts = this.#deps.stats.workloadApi;
    let parsed;
    try {
      parsed = stream === 'x509' ? parseX509Update(message) : parseJwtUpdate(message);
    } catch (error) {
      counts.rejected[stream]++;
      const bundleError = error instanceof BundleError ? error : new BundleError('ERR_BUNDLE_INVALID', String(error), { cause: error });
      return this.#fail(stream, bundleError.code, `update refused: ${bundleError.message}`, bundleError);
    }
    const dropped = this.#bundles.replace(stream, parsed);
    counts.updates[stream]++;
    counts.lastUpdateAt = this.#deps.now();
    delete this.#failures[stream];
    delete this.#told[stream];
    for (const [name, bundle] of parsed) this.#deps.onReload({ source: 'trust-domain', name, path: this.#socket, ...describe(stream, bundle) });
    for (const name of dropped) this.#deps.onReload({ source: 'trust-domain', name, path: this.#socket, withdrawn: true });
  }

  #streamFailed(stream: BundleStream, failure: StreamFailure, retryInMs: number): void {
    this.#deps.stats.workloadApi.reconnects[stream]++;
    const cause = `${failure.status}: ${failure.message}`;
    this.#fail(stream, 'ERR_BUNDLE_READ', cause, new BundleError('ERR_BUNDLE_READ', `${cause}; reconnecting in ${retryInMs} ms`));
  }

  #fail(stream: BundleStream, code: BundleError['code'], cause: string, error: BundleError): void {
    const label = `Workload API ${this.#socket} (${STREAM_LABELS[stream]})`;
    const keptLastGood = this.#bundles.complete;
    const failure: KeyFileFailure = { source: 'trust-domain', name: `workload-api:${stream}`, path: this.#socket, code, cause, keptLastGood, reason: `${label}: ${cause}` };
    this.#failures[stream] = failure;
    if (sameFailure(this.#told[stream], failure)) return;
    this.#told[stream] = failure;
    this.#deps.onError({ ...failure, error });
  }
}

function describe(stream: BundleStream, bundle: unknown): Partial<ReloadEvent> {
  if (stream === 'x509') return { x509Authorities: (bundle as readonly unknown[]).length };
  const jwt = bundle as { jwtAuthorities: ReadonlyMap<string, unknown>; ignoredKeys: number };
  return { jwtAuthorities: jwt.jwtAuthorities.size, ignoredKeys: jwt.ignoredKeys };
}
