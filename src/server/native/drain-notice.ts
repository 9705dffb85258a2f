/**
 * Retiring a connection without refusing a call the client has already sent.
 *
 * A server that sends GOAWAY naming the last stream it took refuses every stream the client
 * opened before reading it; gRPC servers avoid that in two steps: a GOAWAY naming stream
 * 2^31-1 ("stop opening streams here"), a PING, and once the PING's answer shows the client
 * has read the notice, the GOAWAY naming the real last stream. node:http2 cannot send the
 * first step: nghttp2 drops every stream opened after any GOAWAY it has sent, whatever that
 * GOAWAY says, so the client's streams in flight would be lost, not refused.
 *
 * So the notice is written as a raw frame, outside nghttp2, which never learns of it and keeps
 * taking streams. It is written with one write(2) on the socket's descriptor, and only when
 * libuv holds nothing unsent for it: node:http2 hands the kernel whole frames, so the notice
 * lands between two frames, and no completion of ours reaches node:http2's write bookkeeping
 * (a write through the Socket object would, and Node aborts on it). A TLS connection has no
 * such descriptor to write clear bytes to: it is retired in one step, its in-flight streams
 * refused (REFUSED_STREAM, which the shipped Envoy configs retry). The client's PING answer
 * reaches nghttp2 as the answer to a PING nghttp2 sent itself (`session.ping`).
 */
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import type http2 from 'node:http2';

/** GOAWAY on stream 0, last stream 2^31-1, NO_ERROR (RFC 9113 §6.8). */
const DRAIN_NOTICE = Buffer.from([
  0x00, 0x00, 0x08, // length 8
  0x07, // type GOAWAY
  0x00, // flags
  0x00, 0x00, 0x00, 0x00, // stream 0
  0x7f, 0xff, 0xff, 0xff, // last stream id 2^31-1
  0x00, 0x00, 0x00, 0x00, // NO_ERROR
]);

/** How long the client may take to answer the PING that follows the notice. */
const NOTICE_ANSWER_MS = 1_000;

/** Where a clear-text connection's socket is kept, readable through `session.socket` (a proxy). */
const SOCKET = Symbol('meshwarden.http2Socket');

/**
 * Marks a clear-text (TCP or unix) socket a session will run on, so that `sendDrainNotice`
 * finds it: node:http2 hands out only a proxy of it.
 */
export function markSessionSocket(socket: Socket): void {
  (socket as Socket & { [SOCKET]?: Socket })[SOCKET] = socket;
}

/**
 * Tells the client to open no more streams here, then calls `end` (which sends the real
 * GOAWAY) once the client has shown it read the notice, or after `NOTICE_ANSWER_MS`, or at
 * once where the notice cannot be sent. `end` runs outside nghttp2's callbacks.
 */
export function sendDrainNotice(session: http2.ServerHttp2Session, end: () => void): void {
  if (session.closed || session.destroyed) return end();
  const sent = writeNotice(sessionSocket(session));
  if (sent === 'torn') return session.destroy(); // part of a frame went out: the connection is beyond repair
  if (sent === 'unsent') return end();
  let ended = false;
  const endOnce = () => {
    if (ended) return;
    ended = true;
    clearTimeout(unanswered);
    end();
  };
  const unanswered = setTimeout(endOnce, NOTICE_ANSWER_MS);
  unanswered.unref();
  try {
    // the answer arrives inside nghttp2's frame callback, where closing a session aborts Node
    if (!session.ping(() => setImmediate(endOnce))) endOnce();
  } catch {
    endOnce();
  }
}

interface StreamHandle {
  readonly fd?: number;
  readonly writeQueueSize?: number;
}

/** One write(2) of the notice, when nothing of node:http2's is waiting to be written before it. */
function writeNotice(socket: Socket | undefined): 'sent' | 'unsent' | 'torn' {
  const handle = (socket as { _handle?: StreamHandle } | undefined)?._handle;
  if (handle?.fd === undefined || handle.fd < 0 || handle.writeQueueSize !== 0) return 'unsent';
  let written: number;
  try {
    written = writeSync(handle.fd, DRAIN_NOTICE);
  } catch {
    return 'unsent'; // EAGAIN: the kernel's buffer is full
  }
  return written === DRAIN_NOTICE.length ? 'sent' : 'torn';
}

function sessionSocket(session: http2.ServerHttp2Session): Socket | undefined {
  try {
    return (session.socket as unknown as { [SOCKET]?: Socket })[SOCKET];
  } catch {
    return undefined; // the session has let go of its socket
  }
}
