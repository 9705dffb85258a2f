/**
 * A TEST DOUBLE of the SPIFFE Workload API (not SPIRE): a grpc-js server on a unix socket,
 * built from the same official proto meshwarden vendors (proto/spiffe/workload/), serving
 * FetchX509Bundles and FetchJWTBundles on a schedule the test controls. Like SPIRE, it refuses
 * a call without the `workload.spiffe.io: true` metadata and sends the current bundles as soon
 * as a stream opens.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  status,
  type ServerWritableStream,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export type Stream = 'x509' | 'jwt';
export type Bundles = Record<string, Uint8Array>;
type Call = ServerWritableStream<object, { bundles: Bundles }>;

const PROTO = resolve(__dirname, '../../../proto/spiffe/workload/workload.proto');

export class WorkloadApiDouble {
  readonly socketPath: string;
  /** Calls refused for lack of the security metadata. */
  refusedCalls = 0;
  readonly #open: Record<Stream, Set<Call>> = { x509: new Set(), jwt: new Set() };
  readonly #current: Partial<Record<Stream, Bundles>> = {};
  #server: Server | undefined;

  constructor(dir = mkdtempSync(join(tmpdir(), 'meshwarden-wlapi-'))) {
    this.socketPath = join(dir, 'agent.sock');
  }

  get target(): string {
    return `unix:${this.socketPath}`;
  }

  openStreams(stream: Stream): number {
    return this.#open[stream].size;
  }

  async start(): Promise<void> {
    const server = new Server();
    server.addService(workloadService().service, {
      FetchX509Bundles: (call: Call) => this.#serve('x509', call),
      FetchJWTBundles: (call: Call) => this.#serve('jwt', call),
    });
    await new Promise<void>((done, fail) => server.bindAsync(this.target, ServerCredentials.createInsecure(), (error) => (error ? fail(error) : done())));
    this.#server = server;
  }

  /** Sends `bundles` on every open stream of that kind, and on each stream opened later. */
  send(stream: Stream, bundles: Bundles): void {
    this.#current[stream] = bundles;
    for (const call of this.#open[stream]) call.write({ bundles });
  }

  /** Sends a message exactly as given (hostile input), without making it the current one. */
  sendRaw(stream: Stream, message: object): void {
    for (const call of this.#open[stream]) call.write(message as { bundles: Bundles });
  }

  /** Ends every open stream of that kind with an error status, as an agent in trouble does. */
  failStreams(stream: Stream, code = status.UNAVAILABLE, details = 'agent is shutting down'): void {
    for (const call of this.#open[stream]) call.emit('error', { code, details });
    this.#open[stream].clear();
  }

  /** The agent goes away: every stream cut, the socket removed. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const kind of ['x509', 'jwt'] as const) this.#open[kind].clear();
    server?.forceShutdown();
  }

  #serve(stream: Stream, call: Call): void {
    if (call.metadata.get('workload.spiffe.io')[0] !== 'true') {
      this.refusedCalls++;
      call.emit('error', { code: status.INVALID_ARGUMENT, details: 'security header missing from request' });
      return;
    }
    this.#open[stream].add(call);
    call.on('cancelled', () => this.#open[stream].delete(call));
    const current = this.#current[stream];
    if (current !== undefined) call.write({ bundles: current });
  }
}

function workloadService(): ServiceClientConstructor {
  const definition = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  return (loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: ServiceClientConstructor }).SpiffeWorkloadAPI;
}
