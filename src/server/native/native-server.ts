/**
 * The gRPC server Envoy calls, on Node's own HTTP/2: Authorization/Check and
 * grpc.health.v1 (Check, Watch), on `host:port` or `unix:/path`, plaintext or (m)TLS.
 *
 * Why not @grpc/grpc-js' Server: its per-call machinery (metadata objects, filters, call
 * state) costs about 65 µs of CPU per Check on our benchmark machine, more than everything
 * meshwarden does to decide (bench/results/report.md). We serve three methods, each with
 * one request message, so the part of gRPC we need is small: framing, status trailers,
 * `grpc-timeout`, `grpc-encoding`, and the size limit. It is held to grpc-js clients in the
 * tests and to Envoy's official protos in test/conformance.
 */
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { formatListenAddress, parseListenAddress } from '../net/listen-address.js';
import { listenOn } from '../net/listen.js';
import { BODY_TIMEOUT_MS, CallDeadlines } from './call-deadlines.js';
import type { GrpcMethodHandler } from '../grpc/grpc-call.js';
import { GrpcCallError, GrpcStatus } from '../grpc/grpc-status.js';
import type { HealthReporter } from '../grpc/health.js';
import type { ClientAdmission, GrpcServerOptions, GrpcTlsMaterial, RunningGrpcServer } from '../grpc/listener.js';
import type { MethodTable } from '../grpc/methods.js';
import { messageEncodingOf, RequestBody } from './request-message.js';
import { ServerCall } from './server-call.js';

const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export async function startNativeServer(options: GrpcServerOptions, methods: MethodTable, health: HealthReporter): Promise<RunningGrpcServer> {
  const target = parseListenAddress(options.address);
  const server = createHttp2Server(options.tls as GrpcTlsMaterial | undefined);
  const sessions = trackSessions(server);
  const reading: Reading = { maxMessageBytes: options.limits?.messageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, deadlines: new CallDeadlines() };
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
    // deadlines keep being enforced while calls drain
    close: (graceMs = 5_000) => close(server, sessions, health, graceMs).finally(() => reading.deadlines.close()),
  };
}

function createHttp2Server(tls: GrpcTlsMaterial | undefined): http2.Http2Server | http2.Http2SecureServer {
  if (tls === undefined) return http2.createServer();
  const mutual = tls.clientCa !== undefined;
  // With a client CA, a client without a certificate that chains to it is refused in the handshake.
  return http2.createSecureServer({
    cert: tls.cert,
    key: tls.key,
    ...(mutual ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    allowHTTP1: false,
    minVersion: 'TLSv1.2',
  });
}

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

/** How requests are read: the size limit, and the calls that must end by a deadline. */
interface Reading {
  readonly maxMessageBytes: number;
  readonly deadlines: CallDeadlines;
}

function dispatcher(methods: ReadonlyMap<string, GrpcMethodHandler>, reading: Reading, admits: Admission | undefined) {
  return (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    stream.on('error', () => {}); // a reset or broken stream ends this call only
    if (!isGrpcRequest(stream, headers)) return;
    const call = new ServerCall(stream);
    const method = methods.get(headers[':path'] ?? '');
    const refusal = method === undefined
      ? new GrpcCallError(GrpcStatus.UNIMPLEMENTED, `unknown method ${headers[':path']}`)
      : admits !== undefined && !admits(stream.session!)
        ? new GrpcCallError(GrpcStatus.PERMISSION_DENIED, 'client identity is not allowed on this listener')
        : undefined;
    if (refusal !== undefined) {
      call.fail(refusal.code, refusal.message);
      stream.resume();
      return;
    }
    readRequest(stream, headers, call, reading, method!);
  };
}

/** Not gRPC at all (wrong HTTP method or content type): answered in plain HTTP, as the gRPC spec says. */
function isGrpcRequest(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  const status = headers[':method'] !== 'POST' ? 405 : contentType?.startsWith('application/grpc') ? 0 : 415;
  if (status === 0) return true;
  stream.respond({ ':status': status }, { endStream: true });
  stream.resume();
  return false;
}

function readRequest(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  call: ServerCall,
  reading: Reading,
  method: GrpcMethodHandler,
): void {
  const started = performance.now();
  const refuse = (error: unknown) => {
    const known = error instanceof GrpcCallError ? error : new GrpcCallError(GrpcStatus.INTERNAL, 'the request could not be read');
    call.fail(known.code, known.message);
  };
  let deadlineMs: number | undefined;
  try {
    deadlineMs = deadlineOf(headers['grpc-timeout']);
  } catch (error) {
    refuse(error);
    stream.resume();
    return;
  }
  const body = new RequestBody(reading.maxMessageBytes);
  reading.deadlines.add(call, started + (deadlineMs ?? BODY_TIMEOUT_MS));
  const onData = (chunk: Buffer) => {
    try {
      body.push(chunk);
    } catch (error) {
      stream.off('data', onData);
      stream.resume(); // the rest of an oversized body is read and dropped, never buffered
      refuse(error);
    }
  };
  stream.on('data', onData);
  stream.once('end', () => {
    if (!call.ended) {
      try {
        method(body.message(messageEncodingOf(headers['grpc-encoding'])), call);
      } catch (error) {
        refuse(error);
      }
    }
    // An answer still being worked out stays under its grpc-timeout; without one, nothing is due.
    if (call.ended || deadlineMs === undefined) reading.deadlines.delete(call);
  });
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 };

/** `grpc-timeout`: at most 8 digits and a unit (gRPC over HTTP/2); anything else is refused. */
function deadlineOf(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(header) : null;
  if (match === null) throw new GrpcCallError(GrpcStatus.OUT_OF_RANGE, `grpc-timeout "${String(header)}" is malformed`);
  return Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!;
}

function trackSessions(server: http2.Http2Server | http2.Http2SecureServer): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => {}); // a broken connection ends its own calls only
    session.once('close', () => sessions.delete(session));
  });
  server.on('sessionError', () => {});
  return sessions;
}

/** Stop accepting, GOAWAY every connection, end health watches; what is left after `graceMs` is cut. */
function close(
  server: http2.Http2Server | http2.Http2SecureServer,
  sessions: Set<http2.ServerHttp2Session>,
  health: HealthReporter,
  graceMs: number,
): Promise<void> {
  health.setServing(false);
  health.endWatches();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      for (const session of sessions) session.destroy();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    for (const session of sessions) session.close();
  });
}
