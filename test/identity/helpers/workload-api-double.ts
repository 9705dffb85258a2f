/**
 * A TEST DOUBLE of the SPIFFE Workload API (not SPIRE): a grpc-js server on a unix socket, or
 * on a loopback TCP port (the spec's tcp://IP:PORT), built from the same official proto meshwarden vendors (proto/spiffe/workload/), serving
 * FetchX509Bundles, FetchJWTBundles and FetchX509SVID on a schedule the test controls. Like
 * SPIRE, it refuses a call without the `workload.spiffe.io: true` metadata and sends the
 * current message as soon as a stream opens. It can also write bytes that are no protobuf at
 * all (a Buffer given to sendRaw), which no real agent would.
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

export type Stream = 'x509' | 'jwt' | 'svid';
export type Bundles = Record<string, Uint8Array>;
/** One X509SVID of an X509SVIDResponse (proto field names). */
export interface SvidMessage {
  readonly spiffe_id: string;
  readonly x509_svid: Uint8Array;
  readonly x509_svid_key: Uint8Array;
  readonly bundle: Uint8Array;
}
type Message = { bundles: Bundles } | { svids: SvidMessage[] };
type Call = ServerWritableStream<object, Message | Buffer>;
const STREAMS: readonly Stream[] = ['x509', 'jwt', 'svid'];

const PROTO = resolve(__dirname, '../../../proto/spiffe/workload/workload.proto');

export class WorkloadApiDouble {
  /** The unix socket's path ('' on TCP). */
  readonly socketPath: string;
  /** The loopback IP it listens on over TCP (undefined on a unix socket). */
  readonly #tcpHost: '127.0.0.1' | '::1' | undefined;
  /** The TCP port, picked at the first start and kept across restarts. */
  #port = 0;
  /** Calls refused for lack of the security metadata. */
  refusedCalls = 0;
  readonly #open: Record<Stream, Set<Call>> = { x509: new Set(), jwt: new Set(), svid: new Set() };
  readonly #current: Partial<Record<Stream, Message>> = {};
  /** Streams opened since start, per kind (reconnects show as more than one). */
  readonly opened: Record<Stream, number> = { x509: 0, jwt: 0, svid: 0 };
  #server: Server | undefined;

  /** `dir`: where its unix socket goes; `{ tcpHost }`: listen on that loopback IP, on a port picked at start. */
  constructor(where: string | { readonly tcpHost: '127.0.0.1' | '::1' } = mkdtempSync(join(tmpdir(), 'meshwarden-wlapi-'))) {
    this.socketPath = typeof where === 'string' ? join(where, 'agent.sock') : '';
    this.#tcpHost = typeof where === 'string' ? undefined : where.tcpHost;
  }

  /** Its address as SPIFFE_ENDPOINT_SOCKET writes it (a TCP one only once started). */
  get target(): string {
    return this.#tcpHost === undefined ? `unix:${this.socketPath}` : `tcp://${this.#hostPort()}`;
  }

  #hostPort(): string {
    return `${this.#tcpHost === '::1' ? '[::1]' : this.#tcpHost}:${this.#port}`;
  }

  openStreams(stream: Stream): number {
    return this.#open[stream].size;
  }

  async start(): Promise<void> {
    const server = new Server();
    server.addService(workloadService().service, {
      FetchX509Bundles: (call: Call) => this.#serve('x509', call),
      FetchJWTBundles: (call: Call) => this.#serve('jwt', call),
      FetchX509SVID: (call: Call) => this.#serve('svid', call),
    });
    const bindTo = this.#tcpHost === undefined ? this.target : this.#hostPort();
    this.#port = await new Promise<number>((done, fail) => server.bindAsync(bindTo, ServerCredentials.createInsecure(), (error, port) => (error ? fail(error) : done(port))));
    this.#server = server;
  }

  /** Sends `bundles` on every open stream of that kind, and on each stream opened later. */
  send(stream: 'x509' | 'jwt', bundles: Bundles): void {
    this.#sendCurrent(stream, { bundles });
  }

  /** Sends meshwarden's SVID on every open FetchX509SVID stream, and on each opened later. */
  sendSvid(svid: SvidMessage): void {
    this.#sendCurrent('svid', { svids: [svid] });
  }

  /** Sends a message exactly as given (hostile input; a Buffer goes out as raw bytes), without making it the current one. */
  sendRaw(stream: Stream, message: object | Buffer): void {
    for (const call of this.#open[stream]) call.write(message as Message);
  }

  #sendCurrent(stream: Stream, message: Message): void {
    this.#current[stream] = message;
    for (const call of this.#open[stream]) call.write(message);
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
    for (const kind of STREAMS) this.#open[kind].clear();
    server?.forceShutdown();
  }

  #serve(stream: Stream, call: Call): void {
    if (call.metadata.get('workload.spiffe.io')[0] !== 'true') {
      this.refusedCalls++;
      call.emit('error', { code: status.INVALID_ARGUMENT, details: 'security header missing from request' });
      return;
    }
    this.#open[stream].add(call);
    this.opened[stream]++;
    call.on('cancelled', () => this.#open[stream].delete(call));
    const current = this.#current[stream];
    if (current !== undefined) call.write(current);
  }
}

/** The official service, except that a Buffer written to a stream goes out as it is (garbage on the wire). */
function workloadService(): ServiceClientConstructor {
  const definition = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const service = (loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: ServiceClientConstructor }).SpiffeWorkloadAPI;
  for (const method of Object.values(service.service)) {
    const serialize = method.responseSerialize;
    method.responseSerialize = (message: unknown) => (Buffer.isBuffer(message) ? message : serialize(message));
  }
  return service;
}
