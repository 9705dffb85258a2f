/**
 * The ext_authz listener on @grpc/grpc-js' Server (`grpc.transport: grpc-js`): the same
 * method table as the native transport, with raw Buffer (de)serializers, so the handlers get
 * the request bytes and grpc-js converts nothing. Against @grpc/proto-loader objects doing
 * the same decode and encode, that is about 55 µs of server CPU per Check instead of 80 (h2load,
 * 100k calls), and proto-loader's objects would still need converting to what envoy/ reads.
 *
 * grpc-js' options carry the size limit, streams per connection, keepalive and connection
 * ages; what it lacks is added around it: the buffered-bytes budget and the 400 answer to an
 * oversized Check (body-guard.ts), the deadline cap and admission (call-guard.ts), and the
 * connection cap and unix socket reclaim, by accepting connections on our own node:net server
 * (connections.ts).
 */
import { Server, type ServerOptions, type ServerWritableStream, type handleServerStreamingCall, type handleUnaryCall } from '@grpc/grpc-js';
import type { GrpcConnectionPolicy, GrpcLimits } from '../../config/index.js';
import type { GrpcMethodHandler } from '../grpc/grpc-call.js';
import { HEALTH_WATCH_PATH, type HealthReporter } from '../grpc/health.js';
import type { GrpcServerOptions, ListenerSettings, RunningGrpcServer } from '../grpc/listener.js';
import type { MethodTable } from '../grpc/methods.js';
import { formatListenAddress, parseListenAddress } from '../net/listen-address.js';
import { listenOn } from '../net/listen.js';
import { BufferBudget } from '../grpc/buffer-budget.js';
import { bodyGuard, guardsFit } from './body-guard.js';
import { callGuard, UntakenAnswers } from './call-guard.js';
import { ConnectionTable } from './connections.js';
import { invoke, StreamingGrpcJsCall, UnaryGrpcJsCall } from './grpc-js-call.js';
import { listenerCredentials } from './tls-credentials.js';

/** The methods that stream their answer; every other one is unary. */
const SERVER_STREAMING: ReadonlySet<string> = new Set([HEALTH_WATCH_PATH]);

export async function startGrpcJsServer(
  options: GrpcServerOptions,
  methods: MethodTable,
  health: HealthReporter,
  { limits, connections: policy }: ListenerSettings,
): Promise<RunningGrpcServer> {
  if (!guardsFit()) throw new Error('grpc.transport grpc-js: this @grpc/grpc-js no longer has the call methods meshwarden bounds request bodies through; use grpc.transport: native');
  const target = parseListenAddress(options.address);
  const connections = new ConnectionTable();
  const budget = new BufferBudget(limits.bufferedBytes);
  const untaken = new UntakenAnswers(limits.deadlineMs, (call) => connections.cut(call));
  const server = new Server({
    ...serverOptions(limits, policy),
    // bodyGuard first: it fits onto grpc-js' base call, which only the first interceptor is handed
    interceptors: [
      bodyGuard({ budget, methods }),
      callGuard({ deadlineMs: limits.deadlineMs, untaken, ...(options.admitClient ? { admits: connections.admission(options.admitClient) } : {}) }),
    ],
  });
  for (const [path, method] of methods) register(server, path, method);
  const tls = listenerCredentials(options.tls);
  const injector = server.createConnectionInjector(tls.credentials);
  // TLS material reaches grpc-js' TLS server on a microtask (tls-credentials.ts): accept nothing before
  await new Promise((resolve) => setImmediate(resolve));
  const listener = connections.listener(limits.connections, (socket) => injector.injectConnection(socket));
  const port = await listenOn(listener, target).catch((error: unknown) => {
    server.forceShutdown();
    untaken.close();
    tls.close();
    throw error;
  });
  return {
    address: target.kind === 'unix' ? options.address : formatListenAddress({ ...target, port: port! }),
    port,
    transport: 'grpc-js',
    health,
    load: () => ({ connections: connections.size, bufferedBytes: budget.used }),
    close: async (graceMs = 5_000) => {
      health.setServing(false);
      health.endWatches();
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      const timer = setTimeout(() => {
        server.forceShutdown();
        connections.destroyAll();
      }, graceMs);
      timer.unref();
      await Promise.all([closed, drained]);
      clearTimeout(timer);
      untaken.close();
      tls.close();
    },
  };
}

/**
 * GrpcServerOptions in grpc-js' words. Channelz is off: it keeps a record of every call and
 * connection that nothing here reads. `limits.connections` has no grpc-js option (1.14 has
 * no `grpc.max_connections`); it is node:net's `maxConnections` on our own listener.
 */
function serverOptions(limits: GrpcLimits, connections: GrpcConnectionPolicy): ServerOptions {
  const optional = (key: keyof ServerOptions, value: number | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    'grpc.enable_channelz': 0,
    'grpc.max_receive_message_length': limits.messageBytes,
    'grpc.max_concurrent_streams': limits.streamsPerConnection,
    'grpc.keepalive_time_ms': connections.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': connections.keepaliveTimeoutMs,
    ...optional('grpc.max_connection_idle_ms', connections.maxConnectionIdleMs),
    ...optional('grpc.max_connection_age_ms', connections.maxConnectionAgeMs),
    ...optional('grpc.max_connection_age_grace_ms', connections.maxConnectionAgeGraceMs),
  };
}

/** Raw bytes both ways: the handlers decode and encode with our own codecs. */
const deserialize = (bytes: Buffer): Buffer => bytes;
const serialize = (message: Uint8Array): Buffer =>
  Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength);

function register(server: Server, path: string, method: GrpcMethodHandler): void {
  if (SERVER_STREAMING.has(path)) {
    const streaming: handleServerStreamingCall<Buffer, Uint8Array> = (stream: ServerWritableStream<Buffer, Uint8Array>) =>
      invoke(method, stream.request, new StreamingGrpcJsCall(stream));
    server.register(path, streaming, serialize, deserialize, 'serverStream');
  } else {
    const unary: handleUnaryCall<Buffer, Uint8Array> = (call, respond) => invoke(method, call.request, new UnaryGrpcJsCall(call, respond));
    server.register(path, unary, serialize, deserialize, 'unary');
  }
}
