/**
 * The connections of the native listener, kept within what the operator configured: at most
 * `limits.connections` open at once (more are closed as they arrive), an idle connection
 * (no call for `maxConnectionIdle`) sent GOAWAY, every connection sent GOAWAY at
 * `maxConnectionAge` (±10 %, so replicas scaled up get traffic) and cut `maxConnectionAgeGrace`
 * later, keepalive PINGs whose missing answer cuts the connection, and a connection that
 * has gone away (ours or the client's GOAWAY, a protocol error) closed once its calls end,
 * or cut when it is still there after the deadline limit. A client that resets streams
 * faster than any client that means its calls would (rapid reset, CVE-2023-44487) is cut:
 * nghttp2 sends its own GOAWAY then, but tells Node nothing, so the connection would
 * otherwise hold its slot until it went idle.
 */
import type { Socket } from 'node:net';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { GrpcConnectionPolicy } from '../../config/index.js';
import { markSessionSocket, sendDrainNotice } from './drain-notice.js';

export interface ConnectionBounds extends Partial<GrpcConnectionPolicy> {
  readonly maxConnections: number;
  /** How long a connection that has gone away may take to finish its calls. */
  readonly goneAwayGraceMs: number;
}

export interface TrackedSessions {
  readonly sessions: ReadonlySet<http2.ServerHttp2Session>;
  /** Open TCP (or unix) connections, TLS handshakes included. */
  readonly connections: number;
  /** Retire one session: drain notice, GOAWAY, then cut it if it lingers. */
  goAway(session: http2.ServerHttp2Session): void;
}

type AnyHttp2Server = http2.Http2Server | http2.Http2SecureServer;

export function trackConnections(server: AnyHttp2Server, bounds: ConnectionBounds): TrackedSessions {
  const sessions = new Set<http2.ServerHttp2Session>();
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections += 1;
    socket.once('close', () => (connections -= 1));
    if (connections > bounds.maxConnections) socket.destroy();
    else {
      socket.setNoDelay(true);
      lingerAfterEnd(socket);
      if (!(server instanceof tls.Server)) markSessionSocket(socket);
    }
  });
  server.on('sessionError', () => {});
  const retire = (session: http2.ServerHttp2Session) => retireGracefully(session, bounds.goneAwayGraceMs);
  const goAway = (session: http2.ServerHttp2Session) => endGracefully(session, bounds.goneAwayGraceMs);
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => {}); // a broken connection ends its own calls only
    const timers = [watchCalls(session, bounds, retire), ageTimer(session, bounds), keepalive(session, bounds)];
    // the client's GOAWAY (or a frame error) leaves a half-dead connection: close it, outside
    // nghttp2's callback that told us (closing a session inside one aborts the process)
    session.once('goaway', () => setImmediate(goAway, session));
    session.once('frameError', () => setImmediate(goAway, session));
    session.once('close', () => {
      sessions.delete(session);
      for (const timer of timers) if (timer !== undefined) clearTimeout(timer);
    });
  });
  return {
    sessions,
    get connections() {
      return connections;
    },
    goAway: retire,
  };
}

/** How long a client may keep a connection open after we ended our side of it. */
const LINGER_MS = 1_000;

/**
 * node:http2 ends its side of the socket when a session closes and then waits for the
 * client's FIN, which a client that sent GOAWAY (or was sent one) may never send: the
 * socket is destroyed a moment after our side ended, so its descriptor is not held forever.
 */
function lingerAfterEnd(socket: Socket): void {
  socket.once('finish', () => {
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  });
}

/**
 * Our decision to close a connection (idle, age, shutdown): the client first hears the drain
 * notice, so no call it already sent is refused, then the GOAWAY of `endGracefully`.
 */
export function retireGracefully(session: http2.ServerHttp2Session, graceMs: number): void {
  sendDrainNotice(session, () => endGracefully(session, graceMs));
}

/** GOAWAY now; the connection closes when its calls end, or is destroyed after `graceMs`. */
export function endGracefully(session: http2.ServerHttp2Session, graceMs: number): void {
  if (session.destroyed) return;
  if (!session.closed) {
    try {
      session.close();
    } catch {
      session.destroy();
      return;
    }
  }
  const cut = setTimeout(() => session.destroy(), graceMs);
  cut.unref();
  session.once('close', () => clearTimeout(cut));
}

/** nghttp2's own allowance for resets: a burst of 1,000, then 33 a second. */
const RESET_BURST = 1_000;
const RESETS_PER_SECOND = 33;

/**
 * One listener per call's close, for two bounds: the idle timer (no call for
 * `maxConnectionIdle`: GOAWAY) and a token bucket of calls closed by RST_STREAM (empty: the
 * connection is cut). Returns the idle timer, for the session's close to clear.
 */
function watchCalls(
  session: http2.ServerHttp2Session,
  bounds: ConnectionBounds,
  goAway: (session: http2.ServerHttp2Session) => void,
): NodeJS.Timeout | undefined {
  const idleMs = bounds.maxConnectionIdleMs;
  let calls = 0;
  let resetTokens = RESET_BURST;
  let refilledAt = performance.now();
  // One timer per connection, re-armed (not re-made) each time its last call ends; it
  // fires harmlessly while calls are open.
  const timer = idleMs === undefined ? undefined : setTimeout(() => calls === 0 && goAway(session), idleMs);
  timer?.unref();
  const onReset = () => {
    const now = performance.now();
    resetTokens = Math.min(RESET_BURST, resetTokens + ((now - refilledAt) / 1_000) * RESETS_PER_SECOND) - 1;
    refilledAt = now;
    // never from inside nghttp2's own callback (a stream's close is one): Node aborts
    if (resetTokens < 0 && !session.destroyed) setImmediate(() => session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM));
  };
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    calls += 1;
    stream.on('close', () => {
      // emitted once per stream: on() spares once()'s wrapper on every call
      calls -= 1;
      if (calls === 0) timer?.refresh();
      if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) onReset();
    });
  });
  return timer;
}

function ageTimer(session: http2.ServerHttp2Session, bounds: ConnectionBounds): NodeJS.Timeout | undefined {
  const ageMs = bounds.maxConnectionAgeMs;
  if (ageMs === undefined) return undefined;
  const jittered = ageMs * (0.9 + Math.random() * 0.2);
  const grace = bounds.maxConnectionAgeGraceMs ?? bounds.goneAwayGraceMs;
  const timer = setTimeout(() => retireGracefully(session, grace), jittered);
  timer.unref();
  return timer;
}

/** A PING every `keepaliveTimeMs`; no answer within `keepaliveTimeoutMs` cuts the connection. */
function keepalive(session: http2.ServerHttp2Session, bounds: ConnectionBounds): NodeJS.Timeout | undefined {
  const { keepaliveTimeMs, keepaliveTimeoutMs } = bounds;
  if (keepaliveTimeMs === undefined || keepaliveTimeoutMs === undefined) return undefined;
  const timer = setInterval(() => {
    if (session.closed || session.destroyed) return;
    const unanswered = setTimeout(() => session.destroy(), keepaliveTimeoutMs);
    unanswered.unref();
    try {
      session.ping((error) => {
        clearTimeout(unanswered);
        if (error) session.destroy();
      });
    } catch {
      clearTimeout(unanswered);
      session.destroy();
    }
  }, keepaliveTimeMs);
  timer.unref();
  return timer;
}
