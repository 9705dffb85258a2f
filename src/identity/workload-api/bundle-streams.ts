/**
 * The two bundle streams of the SPIFFE Workload API (FetchX509Bundles, FetchJWTBundles) over
 * grpc-js, on the official proto (proto/spiffe/workload/). Each call carries the
 * `workload.spiffe.io: true` metadata the spec requires. A stream that fails or ends (the agent
 * restarted, the socket went away) is opened again after a growing delay; the first message of
 * a new stream resets it. The only module of identity/ that knows gRPC (docs/architecture.md).
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
import type { BundleStream, RawBundleUpdate } from './parse-bundle-update.js';

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

export interface ReconnectDelays {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RECONNECT: ReconnectDelays = Object.freeze({ initialMs: 500, maxMs: 30_000 });

const METHODS: Record<BundleStream, 'FetchX509Bundles' | 'FetchJWTBundles'> = { x509: 'FetchX509Bundles', jwt: 'FetchJWTBundles' };

type WorkloadClient = Client & Record<(typeof METHODS)[BundleStream], (request: object, metadata: Metadata) => ClientReadableStream<RawBundleUpdate>>;

interface OpenStream {
  call?: ClientReadableStream<RawBundleUpdate>;
  timer?: NodeJS.Timeout;
  delayMs: number;
}

export class BundleStreams {
  readonly #client: WorkloadClient;
  readonly #events: BundleStreamEvents;
  readonly #delays: ReconnectDelays;
  readonly #streams: Record<BundleStream, OpenStream>;
  #closed = false;

  /** `socket`: a gRPC target, `unix:/path` or `unix:///path`. */
  constructor(socket: string, events: BundleStreamEvents, delays: ReconnectDelays = DEFAULT_RECONNECT) {
    this.#client = new (workloadService())(socket, credentials.createInsecure()) as unknown as WorkloadClient;
    this.#events = events;
    this.#delays = delays;
    this.#streams = { x509: { delayMs: delays.initialMs }, jwt: { delayMs: delays.initialMs } };
  }

  start(): void {
    this.#open('x509');
    this.#open('jwt');
  }

  close(): void {
    this.#closed = true;
    for (const stream of Object.values(this.#streams)) {
      clearTimeout(stream.timer);
      stream.call?.cancel();
    }
    this.#client.close();
  }

  #open(kind: BundleStream): void {
    if (this.#closed) return;
    const stream = this.#streams[kind];
    const metadata = new Metadata();
    metadata.set('workload.spiffe.io', 'true');
    const call = this.#client[METHODS[kind]]({}, metadata);
    stream.call = call;
    let down = false;
    const fail = (failure: StreamFailure) => {
      if (down || this.#closed) return;
      down = true;
      this.#retry(kind, failure);
    };
    call.on('data', (message: RawBundleUpdate) => {
      stream.delayMs = this.#delays.initialMs;
      this.#events.update(kind, message);
    });
    call.on('error', (error: ServiceError) => fail({ status: status[error.code] ?? String(error.code), message: error.details || error.message }));
    call.on('end', () => fail({ status: 'ENDED', message: 'the Workload API closed the stream' }));
  }

  #retry(kind: BundleStream, failure: StreamFailure): void {
    const stream = this.#streams[kind];
    const delayMs = stream.delayMs;
    stream.delayMs = Math.min(delayMs * 2, this.#delays.maxMs);
    stream.call?.cancel();
    stream.call = undefined;
    this.#events.failed(kind, failure, delayMs);
    stream.timer = setTimeout(() => this.#open(kind), delayMs);
    stream.timer.unref();
  }
}

function workloadService(): ServiceClientConstructor {
  // keepCase: the bundles map's keys are SPIFFE IDs and must come through as written
  const definition = loadSync(WORKLOAD_PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  return (loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: ServiceClientConstructor }).SpiffeWorkloadAPI;
}
