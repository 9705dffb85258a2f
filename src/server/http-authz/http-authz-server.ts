/**
 * The HTTP ext_authz listener (Envoy's `http_service`), on node:http/1.1: framing, limits and
 * deadlines around the one Check service (`checkHttp`), as the gRPC transports are around
 * `checkBytes`. Every bound is checked before the work it bounds: connections, header bytes
 * and lines, body bytes per request and across requests, the time a request has to arrive and a
 * connection may stay silent; anything node:http cannot parse is answered 400 on the socket.
 *
 * `GET /healthz` outside the path prefix (only when there is one: otherwise every path is a
 * Check) says whether this process is ready, for an Envoy `http_health_check`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AuthorizationService } from '../../check/index.js';
import type { HttpLimits } from '../../config/index.js';
import type { HttpServiceAnswer } from '../../envoy/index.js';
import { BufferBudget } from '../grpc/buffer-budget.js';
import { formatListenAddress, parseListenAddress } from '../net/listen-address.js';
import { listenOn } from '../net/listen.js';
import { answerClientError, answerConnect } from './malformed-requests.js';
import { readBody, type BodyLimits } from './request-body.js';

export interface HttpAuthzServerOptions {
  /** `host:port`, `[v6]:port` or `unix:/path`. */
  readonly address: string;
  /** As the Check service was told (`httpPathPrefix`): '' or /segments. */
  readonly pathPrefix: string;
  /** An idle keep-alive connection is closed after this long. */
  readonly maxConnectionIdleMs: number;
  readonly limits: HttpLimits;
  readonly authorization: AuthorizationService;
  /** What `GET /healthz` says, when there is a path prefix. */
  readonly ready: () => boolean;
}

export interface RunningHttpAuthzServer {
  /** Where it listens, with the port the system chose for `:0`. */
  readonly address: string;
  load(): { readonly connections: number; readonly bufferedBytes: number };
  /** Stops accepting; requests in flight are answered (their connections then close) for up to `graceMs`; the rest are cut. */
  close(graceMs: number): Promise<void>;
}

export const HEALTH_PATH = '/healthz';

export async function startHttpAuthzServer(options: HttpAuthzServerOptions): Promise<RunningHttpAuthzServer> {
  const target = parseListenAddress(options.address);
  const server = createBoundedServer(options);
  const state: ServingState = { draining: false, connections: 0 };
  const body: BodyLimits = { bodyBytes: options.limits.bodyBytes, budget: new BufferBudget(options.limits.bufferedBytes) };
  server.on('connection', (socket: Socket) => countConnection(socket, state));
  server.on('request', (request: IncomingMessage, response: ServerResponse) => serveGuarded(request, response, options, body, state));
  server.on('clientError', answerClientError(options.authorization, options.limits.headerBytes));
  server.on('connect', answerConnect(options.authorization));
  const port = await listenOn(server, target);
  return {
    address: target.kind === 'unix' ? options.address : formatListenAddress({ ...target, port: port! }),
    load: () => ({ connections: state.connections, bufferedBytes: body.budget.used }),
    close: (graceMs) => {
      state.draining = true;
      return closeServer(server, graceMs);
    },
  };
}

interface ServingState {
  draining: boolean;
  connections: number;
}

function createBoundedServer({ limits, maxConnectionIdleMs }: HttpAuthzServerOptions): Server {
  const server = createServer({
    maxHeaderSize: limits.headerBytes,
    requestTimeout: limits.deadlineMs,
    headersTimeout: limits.deadlineMs,
    // how often node:http looks for requests past those two; at most a quarter of the deadline late
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(limits.deadlineMs / 4))),
    keepAliveTimeout: maxConnectionIdleMs,
    noDelay: true,
  });
  // node:http builds req.headers from at most this many; rawHeaders has them all, and serve() counts those
  server.maxHeadersCount = limits.headers + 1;
  server.maxConnections = limits.connections;
  // past requestTimeout's 408: a connection silent this long, or a Check unanswered this long, is cut
  server.timeout = 2 * limits.deadlineMs;
  return server;
}

function countConnection(socket: Socket, state: ServingState): void {
  state.connections += 1;
  socket.once('close', () => (state.connections -= 1));
}

/** Nothing a request does may throw out of a listener (that would end the process): a failure ends its connection, unanswered. */
function serveGuarded(request: IncomingMessage, response: ServerResponse, options: HttpAuthzServerOptions, body: BodyLimits, state: ServingState): void {
  response.on('error', ignore);
  try {
    serve(request, response, options, body, state);
  } catch {
    response.destroy();
  }
}

function serve(request: IncomingMessage, response: ServerResponse, options: HttpAuthzServerOptions, body: BodyLimits, state: ServingState): void {
  if (options.pathPrefix !== '' && request.url === HEALTH_PATH && request.method === 'GET') return health(response, options.ready());
  const write = (answer: HttpServiceAnswer) => reply(response, answer, state);
  const lines = request.rawHeaders.length / 2;
  if (lines > options.limits.headers) {
    return options.authorization.refuseHttp('request_too_large', 'headers', `${lines} header lines are past http.limits.headers (${options.limits.headers})`, closing(response, write));
  }
  readBody(request, body, (outcome) => {
    if (outcome.kind === 'too_large') return options.authorization.refuseHttp('request_too_large', 'body', outcome.detail, closing(response, write));
    const checked = { method: request.method ?? '', target: request.url ?? '', rawHeaders: request.rawHeaders };
    options.authorization.checkHttp(outcome.body === undefined ? checked : { ...checked, body: outcome.body }, (answer) => {
      outcome.release();
      write(answer);
    });
  });
}

/** A body left unread cannot be skipped over on this connection: the answer closes it. */
function closing(response: ServerResponse, write: (answer: HttpServiceAnswer) => void) {
  return (answer: HttpServiceAnswer) => {
    response.shouldKeepAlive = false;
    write(answer);
  };
}

function reply(response: ServerResponse, answer: HttpServiceAnswer, state: ServingState): void {
  if (response.writableEnded || response.destroyed) return;
  // draining: every answer ends its connection, so the client reconnects to a replica that stays
  if (state.draining) response.shouldKeepAlive = false;
  response.sendDate = false;
  try {
    response.statusCode = answer.status;
    for (const name in answer.headers) response.setHeader(name, answer.headers[name]!);
    // end(body) before any header is sent: node:http writes content-length, not chunks
    response.end(answer.body);
  } catch {
    // an answer that cannot be written is no answer: the connection goes, and Envoy fails closed
    response.destroy();
  }
}

function health(response: ServerResponse, ready: boolean): void {
  response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(ready ? '{"status":"serving"}' : '{"status":"not_serving"}');
}

const ignore = (): void => {};

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    cut.unref();
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
