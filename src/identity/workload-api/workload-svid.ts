/**
 * meshwarden's own X.509-SVID, streamed by the Workload API (FetchX509SVID): each update is
 * checked (parse-svid-update.ts), then offered to the owner, who may refuse it too (a TLS
 * listener asks OpenSSL). A refused update or a lost stream keeps the last good SVID in
 * service; each distinct failure is told once, as the bundle streams' are.
 */
import { SvidStream, type ReconnectDelays, type StreamFailure } from './bundle-streams.js';
import { parseSvidUpdate, SvidError, type RawSvidUpdate, type SvidErrorCode, type WorkloadSvid } from './parse-svid-update.js';

/** Running totals, read at scrape time (the metrics). */
export interface WorkloadSvidStats {
  /** SVIDs put in service. */
  updates: number;
  /** Updates refused: the last good SVID kept serving. */
  rejected: number;
  /** Times the stream failed or ended and was opened again. */
  reconnects: number;
  /** When the SVID in service arrived, epoch ms; undefined before the first. */
  lastUpdateAt: number | undefined;
  /** When the SVID in service became valid (its notBefore), epoch ms. */
  validFrom: number | undefined;
  /** When the SVID in service expires, epoch ms. */
  expiresAt: number | undefined;
}

export interface SvidFailure {
  readonly code: SvidErrorCode;
  /** What failed, without the retry delay (which changes on every retry). */
  readonly cause: string;
  /** An SVID is in service and stays. */
  readonly keptLastGood: boolean;
  /** One line for `/readyz` and the log. */
  readonly reason: string;
}

export interface WorkloadSvidEvents {
  /** A checked SVID: put it in service, or throw to refuse it (the last good one stays). */
  readonly accept: (svid: WorkloadSvid) => void;
  /** Told once per distinct failure until an SVID is accepted again. */
  readonly failed?: (failure: SvidFailure) => void;
}

export interface WorkloadSvidOptions {
  readonly now?: () => number;
  readonly reconnect?: ReconnectDelays;
}

export class WorkloadSvidSource {
  readonly #socket: string;
  readonly #events: WorkloadSvidEvents;
  readonly #now: () => number;
  readonly #stream: SvidStream;
  readonly stats: WorkloadSvidStats = { updates: 0, rejected: 0, reconnects: 0, lastUpdateAt: undefined, validFrom: undefined, expiresAt: undefined };
  #current: WorkloadSvid | undefined;
  #failure: SvidFailure | undefined;
  #told: string | undefined;

  constructor(socket: string, events: WorkloadSvidEvents, options: WorkloadSvidOptions = {}) {
    this.#socket = socket;
    this.#events = events;
    this.#now = options.now ?? Date.now;
    this.#stream = new SvidStream(socket, { update: (m) => this.#update(m), failed: (f, ms) => this.#streamFailed(f, ms) }, options.reconnect);
  }

  /** The SVID in service; undefined until the first one arrived. */
  get current(): WorkloadSvid | undefined {
    return this.#current;
  }

  /** Why the last update or the stream failed, while it stays failed. */
  get failure(): SvidFailure | undefined {
    return this.#failure;
  }

  start(): void {
    this.#stream.start();
  }

  close(): void {
    this.#stream.close();
  }

  #update(message: RawSvidUpdate): void {
    let svid: WorkloadSvid;
    try {
      svid = parseSvidUpdate(message, this.#now());
      this.#events.accept(svid);
    } catch (error) {
      this.stats.rejected++;
      const refused = error instanceof SvidError ? error : new SvidError('ERR_SVID_CERT_INVALID', messageOf(error), { cause: error });
      return this.#fail(refused.code, `update refused: ${refused.message}`);
    }
    this.#current = svid;
    this.stats.updates++;
    this.stats.lastUpdateAt = this.#now();
    this.stats.validFrom = svid.validFrom;
    this.stats.expiresAt = svid.expiresAt;
    this.#failure = undefined;
    this.#told = undefined;
  }

  #streamFailed(failure: StreamFailure, retryInMs: number): void {
    this.stats.reconnects++;
    this.#fail('ERR_SVID_READ', `${failure.status}: ${failure.message}`, `; reconnecting in ${retryInMs} ms`);
  }

  #fail(code: SvidErrorCode, cause: string, retry = ''): void {
    const keptLastGood = this.#current !== undefined;
    this.#failure = { code, cause, keptLastGood, reason: `Workload API ${this.#socket} (X.509-SVID): ${cause}` };
    if (this.#told === `${code}\n${cause}`) return;
    this.#told = `${code}\n${cause}`;
    const failure = { ...this.#failure, reason: this.#failure.reason + retry };
    try {
      this.#events.failed?.(failure);
    } catch {
      // a logging hook never decides what is served
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
