/**
 * The streams of the SPIFFE Workload API over grpc-js, on the official proto
 * (proto/spiffe/workload/): the two bundle streams (FetchX509Bundles, FetchJWTBundles) and
 * meshwarden's own X.509-SVID (FetchX509SVID). Each call carries the `workload.spiffe.io: true`
 * metadata the spec requires. A stream that fails or ends (the agent restarted, the socket went
 * away) is opened again after a growing delay; the first message of a new stream resets it.
 * The only module of identity/ that knows gRPC (docs/architecture.md).
 */
import { fileURLToPath } from 'node:url';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type Client,
  type ClientReadableStream,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { workloadApiTarget } from './endpoint-address.js';
import type { BundleStream, RawBundleUpdate } from './parse-bundle-update.js';
import type { RawSvidUpdate } from './parse-svid-update.js';

const WORKLOAD_PROTO = fileURLToPath(new URL('../../../proto/spiffe/workload/workload.proto', import.meta.url));

export interface StreamFailure {
  /** gRPC status name, e.g. `UNAVAILABLE`, or `ENDED` when the agent closed the stream cleanly. */
  readonly status: string;
  readonly message: string;
}

export interface BundleStreamEvents {
  update(stream: BundleStream, message: RawBundleUpdate): void;
  /** The stream is down; it is opened again in `retryInMs`. */
  failed(stream: BundleStream, failure: StreamFailure, retryInMs: number): void;
}

/** What one stream tells its owner: each message as grpc-js decoded it, and each failure. */
export interface StreamEvents<T> {
  update(message: T): void;
  /** The stream is down; it is opened again in `retryInMs`. */
  failed(failure: StreamFailure, retryInMs: number): void;
}

export interface ReconnectDelays {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RECONNECT: ReconnectDelays = Object.freeze({ initialMs: 500, maxMs: 30_000 });

type Method = 'FetchX509Bundles' | 'FetchJWTBundles' | 'FetchX509SVID';
const METHODS: Record<BundleStream, Method> = { x509: 'FetchX509Bundles', jwt: 'FetchJWTBundles' };

type WorkloadClient = Client & Record<Method, (request: object, metadata: Metadata) => ClientReadableStream<unknown>>;

/** Both bundle streams on one channel. */
export class BundleStreams {
  readonly #client: WorkloadClient;
  readonly #streams: WorkloadStream<RawBundleUpdate>[];

  /** `socket`: the Workload API's address, `unix:/path`, `unix:///path` or `tcp://IP:PORT` (endpoint-address.ts). */
  constructor(socket: string, events: BundleStreamEvents, delays: ReconnectDelays = DEFAULT_RECONNECT) {
    this.#client = workloadClient(socket);
    this.#streams = (['x509', 'jwt'] as const).map(
      (kind) => new WorkloadStream<RawBundleUpdate>(this.#client, METHODS[kind], { update: (m) => events.update(kind, m), failed: (f, ms) => events.failed(kind, f, ms) }, delays),
    );
  }

  start(): void {
    for (const stream of this.#streams) stream.start();
  }

  close(): void {
    for (const stream of this.#streams) stream.close();
    this.#client.close();
  }
}

/** The FetchX509SVID stream on its own channel. */
export class SvidStream {
  readonly #client: WorkloadClient;
  readonly #stream: WorkloadStream<RawSvidUpdate>;

  constructor(socket: string, events: StreamEvents<RawSvidUpdate>, delays: ReconnectDelays = DEFAULT_RECONNECT) {
    this.#client = workloadClient(socket);
    this.#stream = new WorkloadStream(this.#client, 'FetchX509SVID', events, delays);
  }

  start(): void {
    this.#stream.start();
  }

  close(): void {
    this.#stream.close();
    this.#client.close();
  }
}

/** One server-streaming call, opened again after each failure. */
class WorkloadStream<T> {
  #call: ClientReadableStream<unknown> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #closed = false;

  constructor(
    private readonly client: WorkloadClient,
    private readonly method: Method,
    private readonly events: StreamEvents<T>,
    private readonly delays: ReconnectDelays,
  ) {
    this.#delayMs = delays.initialMs;
  }

  start(): void {
    if (this.#closed) return;
    const metadata = new Metadata();
    metadata.set('workload.spiffe.io', 'true');
    const call = this.client[this.method]({}, metadata);
    this.#call = call;
    let down = false;
    const fail = (failure: StreamFailure) => {
      if (down || this.#closed) return;
      down = true;
      this.#retry(failure);
    };
    call.on('data', (message: T) => {
      this.#delayMs = this.delays.initialMs;
      this.events.update(message);
    });
    call.on('error', (error: ServiceError) => fail({ status: status[error.code] ?? String(error.code), message: error.details || error.message }));
    call.on('end', () => fail({ status: 'ENDED', message: 'the Workload API closed the stream' }));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#call?.cancel();
  }

  #retry(failure: StreamFailure): void {
    const delayMs = this.#delayMs;
    this.#delayMs = Math.min(delayMs * 2, this.delays.maxMs);
    this.#call?.cancel();
    this.#call = undefined;
    this.events.failed(failure, delayMs);
    this.#timer = setTimeout(() => this.start(), delayMs);
    this.#timer.unref();
  }
}

/**
 * grpc-js backs off its own reconnects up to 2 minutes: an agent back after an outage would
 * then wait for the channel long after the stream's own delay. Capped so that the stream's
 * delay (above) is the one that counts.
 */
const CHANNEL_OPTIONS = { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 };

function workloadClient(socket: string): WorkloadClient {
  return new (workloadService())(workloadApiTarget(socket), credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as WorkloadClient;
}

function workloadService(): ServiceClientConstructor {
  // keepCase: the bundles map's keys are SPIFFE IDs and must come through as written
  const definition = loadSync(WORKLOAD_PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  return (loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: ServiceClientConstructor }).SpiffeWorkloadAPI;
}
