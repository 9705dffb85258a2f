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
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { encodeCheckResponse } from '../../envoy/index.js';
import { formatListenAddress, parseListenAddress } from '../net/listen-address.js';
import { listenOn } from '../net/listen.js';
import { CHECK_METHOD_PATH, decodeOrMark } from './authorization-definition.js';
import { BODY_TIMEOUT_MS, CallDeadlines } from './call-deadlines.js';
import type { AuthorizationService } from './authorization-service.js';
import { GrpcCallError, GrpcStatus } from './grpc-status.js';
import { createHealthReporter, HEALTH_CHECK_PATH, HEALTH_WATCH_PATH, type HealthReporter } from './health.js';
import { messageEncodingOf, RequestBody } from './request-message.js';
import { ServerCall } from './server-call.js';

/** A method's whole server side: its one request message, and the call to answer on. */
export type GrpcMethodHandler = (request: Buffer, call: ServerCall) => void;

export interface GrpcTlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** With it, every client must present a certificate that chains to it (mTLS). */
  readonly clientCa?: Buffer;
}

/** Transport admission: told a connection's client certificate, says whether its calls may run. */
export type ClientAdmission = (certificate: PeerCertificate | undefined) => boolean;

export interface GrpcServerOptions {
  /** `host:port` (port 0 picks a free one) or `unix:/path`. */
  readonly address: string;
  /** Default: plaintext (a sidecar on loopback or a unix socket). */
  readonly tls?: GrpcTlsMaterial;
  /** Run once per connection before any call; a refused client's calls end PERMISSION_DENIED. */
  readonly admitClient?: ClientAdmission;
  readonly authorization: AuthorizationService;
  /** Health status at start; default NOT_SERVING until the lifecycle says policies are loaded. */
  readonly initiallyServing?: boolean;
  /** Largest request message accepted (after decompression); default 4 MiB, as gRPC's. */
  readonly maxReceiveMessageBytes?: number;
}

export interface RunningGrpcServer {
  /** The bound address: `host:port` with the real port, or the `unix:` address as given. */
  readonly address: string;
  /** The bound TCP port; undefined on a unix socket. */
  readonly port: number | undefined;
  readonly health: HealthReporter;
  /** Reports NOT_SERVING, lets calls in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const target = parseListenAddress(options.address);
  const health = createHealthReporter(options.initiallyServing === true);
  const methods = new Map<string, GrpcMethodHandler>([
    [CHECK_METHOD_PATH, checkHandler(options.authorization)],
    [HEALTH_CHECK_PATH, health.check],
    [HEALTH_WATCH_PATH, health.watch],
  ]);
  const server = createHttp2Server(options.tls);
  const sessions = trackSessions(server);
  const reading: Reading = { maxMessageBytes: options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, deadlines: new CallDeadlines() };
  server.on('stream', dispatcher(methods, reading, admission(options.admitClient)));
  const port = await listenOn(server, target).catch((error: unknown) => {
    reading.deadlines.close();
    throw error;
  });
  return {
    address: target.kind === 'unix' ? options.address : formatListenAddress({ ...target, port: port! }),
    port,
    health,
    // deadlines keep being enforced while calls drain
    close: (graceMs = 5_000) => close(server, sessions, health, graceMs).finally(() => reading.deadlines.close()),
  };
}

function checkHandler(authorization: AuthorizationService): GrpcMethodHandler {
  return (request, call) => authorization.check(decodeOrMark(request), (response) => call.reply(encodeCheckResponse(response)));
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
