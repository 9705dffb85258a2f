/**
 * The listener's TLS material from the SPIFFE Workload API: meshwarden's own X.509-SVID as the
 * serving certificate, the bundle of its trust domain as the client CA (mTLS from Envoy), both
 * replaced as the agent rotates them, without a restart. Each SVID is checked twice (by
 * identity/, then by OpenSSL here) before any handshake sees it; a refused one, or an agent
 * that went away, leaves the last good SVID serving. Until the first SVID there is nothing to
 * serve: the listener closes connections and the server is not ready.
 */
import { WorkloadSvidSource, type ReconnectDelays, type SvidFailure, type WorkloadSvid, type WorkloadSvidStats } from '../../identity/index.js';
import type { GrpcTlsMaterial, TlsMaterialSource } from '../grpc/listener.js';
import { checkTlsMaterial, type ServedCertificate } from './tls-material-check.js';
import { sameMaterial } from './tls-material-files.js';

export interface SvidRotation {
  readonly socket: string;
  readonly spiffeId: string;
  readonly certificate: ServedCertificate;
  /** The first SVID since start. */
  readonly first: boolean;
}

export interface TlsMaterialWorkloadApiOptions {
  /** Told of each SVID put in service, the first included. Its errors are ignored. */
  readonly onRotated?: (rotation: SvidRotation) => void;
  /** Told once per distinct failure (a refused SVID, a lost stream) until an SVID is taken again. */
  readonly onRejected?: (failure: SvidFailure) => void;
  readonly reconnect?: ReconnectDelays;
  readonly now?: () => number;
}

/** What the TLS check names as the "files" of a Workload API SVID. */
const FIELDS = { cert: 'X509SVIDResponse x509_svid', key: 'X509SVIDResponse x509_svid_key', clientCa: 'X509SVIDResponse bundle' };

export class TlsMaterialWorkloadApi implements TlsMaterialSource {
  /** The SVID's bundle is always there: every client must present a certificate that chains to it. */
  readonly mutual = true;
  readonly #socket: string;
  readonly #options: TlsMaterialWorkloadApiOptions;
  readonly #listeners = new Set<(material: GrpcTlsMaterial) => void>();
  readonly #svids: WorkloadSvidSource;
  #current: GrpcTlsMaterial | undefined;

  /** Opens the FetchX509SVID stream; `current` stays undefined until its first good SVID. */
  static start(socket: string, options: TlsMaterialWorkloadApiOptions = {}): TlsMaterialWorkloadApi {
    const source = new TlsMaterialWorkloadApi(socket, options);
    source.#svids.start();
    return source;
  }

  private constructor(socket: string, options: TlsMaterialWorkloadApiOptions) {
    this.#socket = socket;
    this.#options = options;
    const events = { accept: (svid: WorkloadSvid) => this.#accept(svid), failed: (failure: SvidFailure) => quietly(() => options.onRejected?.(failure)) };
    this.#svids = new WorkloadSvidSource(socket, events, { ...(options.reconnect ? { reconnect: options.reconnect } : {}), ...(options.now ? { now: options.now } : {}) });
  }

  get current(): GrpcTlsMaterial | undefined {
    return this.#current;
  }

  get stats(): Readonly<WorkloadSvidStats> {
    return this.#svids.stats;
  }

  /** Why there is no SVID to serve yet; undefined once there is one. */
  get notReadyReason(): string | undefined {
    if (this.#current !== undefined) return undefined;
    return this.#svids.failure?.reason ?? `Workload API ${this.#socket} (X.509-SVID): waiting for the first SVID`;
  }

  onChange(listener: (material: GrpcTlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The agent pushes every rotation; there is nothing to re-read (SIGHUP). */
  reload(): Promise<'unchanged'> {
    return Promise.resolve('unchanged');
  }

  close(): void {
    this.#svids.close();
    this.#listeners.clear();
  }

  /** Throws to refuse the SVID (the source counts and reports it; the last good one stays). */
  #accept(svid: WorkloadSvid): void {
    const { material, certificate } = checkTlsMaterial(
      { cert: Buffer.from(svid.certChainPem), key: Buffer.from(svid.keyPem), clientCa: Buffer.from(svid.bundlePem) },
      FIELDS,
    );
    // an agent sends the SVID in service again on every new stream: not a rotation
    if (this.#current !== undefined && sameMaterial(material, this.#current)) return;
    const first = this.#current === undefined;
    this.#current = material;
    // checked by OpenSSL above: a listener that still throws is a bug, told by the listener's own log
    for (const listener of [...this.#listeners]) quietly(() => listener(material));
    quietly(() => this.#options.onRotated?.({ socket: this.#socket, spiffeId: svid.spiffeId, certificate, first }));
  }
}

function quietly(report: () => void): void {
  try {
    report();
  } catch {
    // a hook never decides what is served
  }
}
