/**
 * One trust domain fed by a SPIFFE bundle endpoint (SPIFFE Federation, profile https_web):
 * polled at the bundle's own spiffe_refresh_hint (bounded, so neither a hint of 0 nor one of a
 * year is taken as is), the last good bundle kept through every failure: an unreachable
 * server, a non-200, an oversized or unparsable answer, a bundle with no usable key, or one
 * whose spiffe_sequence is older than the bundle in service (a replayed or rolled-back
 * bundle could bring back a retired key; a bundle without one is taken as the latest, as
 * SPIFFE Federation §4.2 says, but never lowers the floor). A failed poll is retried sooner, growing from
 * `firstRetryMs` up to the refresh interval.
 *
 * Failures are told as key files' are: every one on a reload asked for, only a changed one on
 * a scheduled poll, so an endpoint down for an hour is one log line, not one per retry.
 */
import { readFile } from 'node:fs/promises';
import { BundleError } from '../errors.js';
import type { NormalizedBundleEndpoint } from '../options.js';
import { parseSpiffeBundle, type SpiffeBundle } from '../parse-spiffe-bundle.js';
import { sameFailure, type KeyFileFailure } from '../lib/key-file-failure.js';
import type { BundleEndpointStats, BundleFetchOutcome } from '../lib/stats.js';
import { BundleFetchError, fetchBundleText } from './fetch-bundle.js';

export interface BundleEndpointTiming {
  /** Floor of the poll interval, whatever the bundle's hint says. */
  readonly minRefreshMs: number;
  /** Ceiling of the poll interval: a rotation is never missed for longer than this. */
  readonly maxRefreshMs: number;
  /** The first retry after a failed poll; it doubles up to the refresh interval. */
  readonly firstRetryMs: number;
}

export const DEFAULT_BUNDLE_ENDPOINT_TIMING: BundleEndpointTiming = Object.freeze({
  minRefreshMs: 10_000,
  maxRefreshMs: 3_600_000,
  firstRetryMs: 1_000,
});

/**
 * The most keys a federated bundle may list. A trust domain's bundle holds a few authorities
 * (more during a rotation); hundreds are a hostile or broken endpoint, and every key is imported
 * on the thread that answers Checks (about 60 us an EC key, 110 us a certificate).
 */
export const MAX_BUNDLE_KEYS = 256;

/** What the endpoint tells its owner: the same events key files raise. */
export interface BundleEndpointListener {
  loaded(bundle: SpiffeBundle): void;
  /** Every failed poll; `tell`: news for the log (not the same failure told last). */
  failed(failure: KeyFileFailure, error: BundleError, tell: boolean): void;
}

export interface BundleEndpointDeps {
  readonly now: () => number;
  readonly stats: BundleEndpointStats;
  readonly timing: BundleEndpointTiming;
  readonly listener: BundleEndpointListener;
}

/** Whether a failure is told even when it is the one told last. */
export type Telling = 'every-failure' | 'changed-failure';

export class BundleEndpoint {
  readonly label: string;
  #bundle: SpiffeBundle | undefined;
  #raw: string | undefined;
  /** The highest spiffe_sequence taken so far: no bundle below it is taken again. */
  #sequenceFloor: number | undefined;
  #failure: KeyFileFailure | undefined;
  #told: KeyFileFailure | undefined;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  constructor(
    readonly trustDomain: string,
    readonly endpoint: NormalizedBundleEndpoint,
    private readonly deps: BundleEndpointDeps,
  ) {
    this.label = `bundle endpoint ${endpoint.url.href} of ${trustDomain}`;
    this.#retryMs = deps.timing.firstRetryMs;
  }

  /** The last good bundle; undefined until a poll brings one. */
  get bundle(): SpiffeBundle | undefined {
    return this.#bundle;
  }

  /** Why the last poll failed; undefined while the endpoint is good. */
  get failure(): KeyFileFailure | undefined {
    return this.#failure;
  }

  /** Polls now, sharing a poll in flight; the next poll is scheduled from its outcome. */
  refresh(telling: Telling): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#polling ??= this.#poll(telling).finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #poll(telling: Telling): Promise<void> {
    clearTimeout(this.#timer);
    let text: string;
    try {
      text = await fetchBundleText({ ...this.endpoint, ca: await this.#ca() });
    } catch (error) {
      const refused = error instanceof BundleFetchError ? error : new BundleFetchError('error', String(error), { cause: error });
      return this.#refused(refused.kind, refused, telling);
    }
    if (text === this.#raw) return this.#good('unchanged');
    let bundle: SpiffeBundle;
    try {
      bundle = usable(parseSpiffeBundle(text, MAX_BUNDLE_KEYS));
    } catch (error) {
      const refused = error instanceof BundleError ? error : new BundleError('ERR_BUNDLE_INVALID', String(error), { cause: error });
      return this.#refused('invalid', refused, telling);
    }
    const backwards = sequenceBackwards(this.#sequenceFloor, bundle);
    if (backwards !== undefined) return this.#refused('sequence_backwards', backwards, telling);
    this.#bundle = bundle;
    this.#raw = text;
    if (bundle.sequence !== undefined) this.#sequenceFloor = Math.max(bundle.sequence, this.#sequenceFloor ?? 0);
    this.deps.stats.sequence = bundle.sequence;
    this.#good('applied');
  }

  /** The configured CA, read at every poll: a rotated CA file is taken without a restart. */
  async #ca(): Promise<string | undefined> {
    const file = this.endpoint.caFile;
    if (file === undefined) return undefined;
    try {
      return await readFile(file, 'utf8');
    } catch (cause) {
      throw new BundleFetchError('error', `cannot read caFile: ${(cause as Error).message}`, { cause });
    }
  }

  #good(outcome: 'applied' | 'unchanged'): void {
    const { stats, now, listener } = this.deps;
    stats.fetches[outcome]++;
    stats.lastGoodAt = now();
    const recovered = this.#failure !== undefined;
    this.#failure = this.#told = undefined;
    this.#retryMs = this.deps.timing.firstRetryMs;
    this.#schedule(this.#refreshMs());
    if (outcome === 'applied' || recovered) listener.loaded(this.#bundle!);
  }

  #refused(outcome: BundleFetchOutcome, error: BundleError, telling: Telling): void {
    this.deps.stats.fetches[outcome]++;
    const refreshMs = this.#refreshMs();
    this.#schedule(Math.min(this.#retryMs, refreshMs));
    this.#retryMs = Math.min(this.#retryMs * 2, refreshMs);
    const cause = error.message;
    const failure: KeyFileFailure = {
      source: 'trust-domain',
      name: this.trustDomain,
      path: this.endpoint.url.href,
      code: error.code,
      cause,
      keptLastGood: this.#bundle !== undefined,
      reason: `${this.label}: ${cause}`,
    };
    this.#failure = failure;
    const tell = telling === 'every-failure' || !sameFailure(this.#told, failure);
    if (tell) this.#told = failure;
    this.deps.listener.failed(failure, error, tell);
  }

  /** The bundle's hint (seconds), else the configured default, within the timing's bounds. */
  #refreshMs(): number {
    const hint = this.#bundle?.refreshHint;
    const wanted = hint === undefined ? this.endpoint.refreshHintMs : hint * 1000;
    const { minRefreshMs, maxRefreshMs } = this.deps.timing;
    return Math.min(Math.max(wanted, minRefreshMs), maxRefreshMs);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.refresh('changed-failure'), delayMs);
    this.#timer.unref();
  }
}

/** A bundle with no key this server can use would empty the domain's trust: refused, the last good kept. */
function usable(bundle: SpiffeBundle): SpiffeBundle {
  if (bundle.x509Authorities.length === 0 && bundle.jwtAuthorities.size === 0) {
    throw new BundleError('ERR_BUNDLE_INVALID', `bundle holds no usable x509-svid or jwt-svid key (${bundle.ignoredKeys} ignored)`);
  }
  return bundle;
}

/**
 * A bundle whose spiffe_sequence is lower than the highest taken is refused: an older bundle
 * may still list a key that was rotated out. An equal sequence is accepted (a server need not
 * bump it for a change that is not a rotation), and so is a bundle without one (§4.2: then the
 * most recently retrieved bundle is the latest).
 */
function sequenceBackwards(floor: number | undefined, next: SpiffeBundle): BundleError | undefined {
  if (floor === undefined || next.sequence === undefined || next.sequence >= floor) return undefined;
  return new BundleError('ERR_BUNDLE_SEQUENCE', `bundle carries spiffe_sequence ${next.sequence}, older than ${floor} already taken: refused, the bundle in service kept`);
}
