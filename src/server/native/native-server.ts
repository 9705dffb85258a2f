/**
 * The gRPC server Envoy calls, on Node's own HTTP/2: the method table (Authorization/Check,
 * grpc.health.v1 Check and Watch), on `host:port` or `unix:/path`, plaintext or (m)TLS.
 *
 * Why not @grpc/grpc-js' Server (the other transport, `grpc.transport: grpc-js`): its
 * per-call machinery costs more CPU per Check than everything meshwarden does to decide
 * (bench/results/report.md). We serve three methods, each with one request message, so the
 * part of gRPC we need is small: framing, status trailers, `grpc-timeout`, `grpc-encoding`,
 * and the limits. It is held to grpc-js clients in the tests, to Envoy's official protos in
 * test/conformance, and to a real Envoy in test/through-envoy.
 *
 * Every byte here is the client's: every stream state (reset at any point, session torn
 * down) ends its call quietly, every limit is checked before the work it bounds, and a
 * refused or late call is reset so its buffer goes with it.
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import type { GrpcLimits } from '../../config/index.js';
import type { GrpcMethodHandler } from '../grpc/grpc-call.js';
import { GrpcCallError, GrpcStatus } from '../grpc/grpc-status.js';
import type { HealthReporter } from '../grpc/health.js';
import {
  isMutualTls,
  isTlsMaterialSource,
  type ClientAdmission,
  type GrpcServerOptions,
  type GrpcTlsMaterial,
  type ListenerSettings,
  type RunningGrpcServer,
} from '../grpc/listener.js';
import type { MethodTable } from '../grpc/methods.js';
import { formatListenAddress, parseListenAddress } from '../net/listen-address.js';
import { listenOn } from '../net/listen.js';
import { CallDeadlines } from './call-deadlines.js';
import { trackConnections, type TrackedSessions } from './connections.js';
import { BufferBudget } from '../grpc/buffer-budget.js';
import { messageEncodingOf, RequestBody, type MessageEncoding } from './request-message.js';
import { ServerCall } from './server-call.js';

export async function startNativeServer(
  options: GrpcServerOptions,
  methods: MethodTable,
  health: HealthReporter,
  { limits, connections }: ListenerSettings,
): Promise<RunningGrpcServer> {
  const target = parseListenAddress(options.address);
  const server = createHttp2Server(options.tls, limits);
  const tracked = trackConnections(server, {
    ...connections,
    maxConnections: limits.connections,
    goneAwayGraceMs: limits.deadlineMs,
  });
  const reading: Reading = { limits, budget: new BufferBudget(limits.bufferedBytes), deadlines: new CallDeadlines() };
  server.on('stream', dispatcher(methods, reading, admission(options.admitClient)));
  const port = await listenOn(server, target).catch((error: unknown) => {
    reading.deadlines.close();
    throw error;
  });
  return {
    address: target.kind === 'unix' ? options.address : formatListenAddress({ ...target, port: port! }),
    port,
    transport: 'native',
    health,
    load: () => ({ connections: tracked.connections, bufferedBytes: reading.budget.used }),
    // deadlines keep being enforced while calls drain
    close: (graceMs = 5_000) => close(server, tracked, health, graceMs).finally(() => reading.deadlines.close()),
  };
}

type AnyHttp2Server = http2.Http2Server | http2.Http2SecureServer;

function createHttp2Server(tls: GrpcServerOptions['tls'], limits: GrpcLimits): AnyHttp2Server {
  // Advertised to every client; a client that opens more is refused by nghttp2 itself.
  const settings = { maxConcurrentStreams: limits.streamsPerConnection };
  if (tls === undefined) return http2.createServer({ settings });
  const material = isTlsMaterialSource(tls) ? tls.current : tls;
  const mutual = isMutualTls(tls);
  const server = http2.createSecureServer({ ...secureOptions(material, mutual), allowHTTP1: false, minVersion: 'TLSv1.2', settings });
  // Rotation: new connections get the new material; connections already open keep theirs.
  if (isTlsMaterialSource(tls)) {
    let loaded = material !== undefined;
    // nothing to present yet (no SVID): a connection is closed before its handshake, as grpc-js does
    if (!loaded) server.prependListener('connection', (socket: Socket) => void (loaded || socket.destroy()));
    const unsubscribe = tls.onChange((next) => {
      server.setSecureContext({ ...secureOptions(next, mutual), minVersion: 'TLSv1.2' });
      loaded = true;
    });
    server.once('close', unsubscribe);
  }
  return server;
}

/** With a client CA, a client without a certificate that chains to it is refused in the handshake. */
function secureOptions(tls: GrpcTlsMaterial | undefined, mutual: boolean): SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean } {
  const clientCerts = mutual ? { requestCert: true, rejectUnauthorized: true } : {};
  if (tls === undefined) return clientCerts;
  return { cert: tls.cert, key: tls.key, ...clientCerts, ...(mutual && tls.clientCa !== undefined ? { ca: tls.clientCa } : {}) };
}

const ignore = (): void => {};

type Admission = (session: http2.Http2Session) => boolean;

/** Each connection is judged once, on its first call. */
function admission(admitClient: ClientAdmission | undefined): Admission | undefined {
  if (admitClient === undefined) return undefined;
  const verdicts = new WeakMap<http2.Http2Session, boolean>();
  return (session) => {
    let verdict = verdicts.get(session);
    if (verdict === undefined) {
      const certificate = (session.socket as TLSSocket).getPeerCertificate?.();
      verdict = admitClient(certificate?.raw === undefined ? undefined : certificate);
      verdicts.set(session, verdict);
    }
    return verdict;
  };
}

/** How requests are read: the limits, the server-wide buffer budget, and the calls that must end by a deadline. */
interface Reading {
  readonly limits: GrpcLimits;
  readonly budget: BufferBudget;
  readonly deadlines: CallDeadlines;
}

function dispatcher(methods: MethodTable, reading: Reading, admits: Admission | undefined) {
  return (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    stream.on('error', ignore); // a reset or broken stream ends this call only
    try {
      dispatch(stream, headers, methods, reading, admits);
    } catch {
      // node:http2 refused a write on a stream that closed under us: that call is over
      if (!stream.destroyed) stream.destroy();
    }
  };
}

function dispatch(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  methods: MethodTable,
  reading: Reading,
  admits: Admission | undefined,
): void {
  if (stream.closed || !isGrpcRequest(stream, headers)) return;
  const call = new ServerCall(stream, headers);
  const method = methods.get(headers[':path'] ?? '');
  let encoding: MessageEncoding;
  let deadlineMs: number | undefined;
  try {
    if (method === undefined) throw new GrpcCallError(GrpcStatus.UNIMPLEMENTED, `unknown method ${headers[':path']}`);
    if (admits !== undefined && !admits(stream.session!)) {
      throw new GrpcCallError(GrpcStatus.PERMISSION_DENIED, 'client identity is not allowed on this listener');
    }
    encoding = messageEncodingOf(headers['grpc-encoding']);
    deadlineMs = deadlineOf(headers['grpc-timeout'], reading.limits.deadlineMs);
  } catch (error) {
    refuse(call, error, method); // before any byte of the body is buffered
    return;
  }
  readRequest(stream, call, { encoding, deadlineMs, method: method! }, reading);
}

/**
 * Not gRPC at all (wrong HTTP method or content type): answered in plain HTTP, as the gRPC
 * spec says. gRPC's content types are `application/grpc` and `application/grpc+FORMAT`
 * (we speak proto), optionally with parameters; grpc-web and look-alikes are not.
 */
function isGrpcRequest(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean {
  const status = headers[':method'] !== 'POST' ? 405 : isGrpcContentType(headers['content-type']) ? 0 : 415;
  if (status === 0) return true;
  stream.respond({ ':status': status }, { endStream: true });
  stream.close(http2.constants.NGHTTP2_NO_ERROR);
  return false;
}

const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;.*)?$/i;

function isGrpcContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && GRPC_CONTENT_TYPE.test(contentType);
}

interface Request {
  readonly encoding: MessageEncoding;
  /** The client's `grpc-timeout`, capped; undefined when it sent none. */
  readonly deadlineMs: number | undefined;
  readonly method: GrpcMethodHandler;
}

function readRequest(stream: http2.ServerHttp2Stream, call: ServerCall, request: Request, reading: Reading): void {
  const body = new RequestBody(reading.limits.messageBytes, reading.budget);
  // The body is always due by the cap: without grpc-timeout a client still cannot hold it open.
  reading.deadlines.add(call, performance.now() + (request.deadlineMs ?? reading.limits.deadlineMs));
  call.onClose(() => body.discard());
  const onData = (chunk: Buffer) => {
    try {
      body.push(chunk);
    } catch (error) {
      stream.off('data', onData);
      refuse(call, error, request.method);
    }
  };
  stream.on('data', onData);
  // 'end' is emitted once: a plain listener spares once()'s wrapper and its removal
  stream.on('end', () => {
    // a stream the client reset (any RST_STREAM code) also ends its readable side: nothing to answer
    if (call.ended) {
      body.discard();
      return;
    }
    let message: Buffer;
    try {
      message = body.message(request.encoding);
    } catch (error) {
      refuse(call, error, request.method);
      return;
    }
    answer(call, request.method, message);
    // An answer, written or still being worked out, stays due until its stream closes; only a
    // call with no grpc-timeout still open after its request (a Watch stream, open by design)
    // is due no more.
    if (!call.ended && request.deadlineMs === undefined) reading.deadlines.delete(call);
  });
}

function answer(call: ServerCall, method: GrpcMethodHandler, message: Buffer): void {
  try {
    method(message, call);
  } catch {
    call.fail(GrpcStatus.INTERNAL, 'the request could not be answered');
  }
}

/**
 * Fails the call with what was wrong (or, for a method that answers refusals, answers it),
 * and resets a stream the client may still be sending on.
 */
function refuse(call: ServerCall, error: unknown, method: GrpcMethodHandler | undefined): void {
  const known = error instanceof GrpcCallError ? error : new GrpcCallError(GrpcStatus.INTERNAL, 'the request could not be read');
  const answerRefusal = known.code === GrpcStatus.PERMISSION_DENIED ? undefined : method?.answerRefusal;
  if (answerRefusal === undefined) call.failAndReset(known.code, known.message);
  else answerRefusal(known.code, known.message, (response) => call.replyAndReset(response));
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * `grpc-timeout`: at most 8 digits and a unit (gRPC over HTTP/2); anything else is refused.
 * Capped by the server's limit: no client can switch the bound off.
 */
function deadlineOf(header: string | string[] | undefined, capMs: number): number | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(header) : null;
  if (match === null) throw new GrpcCallError(GrpcStatus.OUT_OF_RANGE, `grpc-timeout "${String(header)}" is malformed`);
  return Math.min(Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!, capMs);
}

/** Stop accepting, GOAWAY every connection, end health watches; what is left after `graceMs` is cut. */
function close(server: AnyHttp2Server, tracked: TrackedSessions, health: HealthReporter, graceMs: number): Promise<void> {
  health.setServing(false);
  health.endWatches();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      for (const session of tracked.sessions) session.destroy();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    for (const session of tracked.sessions) tracked.goAway(session);
  });
}
