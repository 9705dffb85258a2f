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
 * So the notice is written as a raw frame on the connection's socket, outside nghttp2, which
 * never learns of it and keeps taking streams. This is safe on the wire: the socket's writes
 * (ours and node:http2's, TLS records included) leave in the order they were made, and
 * node:http2 writes whole frames, so the notice lands between two frames. The client's PING
 * answer reaches nghttp2 as the answer to a PING nghttp2 sent itself (`session.ping`).
 */
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

/** Where a connection's socket is kept, readable through `session.socket` (a proxy). */
const SOCKET = Symbol('meshwarden.http2Socket');

/**
 * Marks the socket a session will run on (the TLS socket on a TLS listener), so that
 * `sendDrainNotice` can write to it: node:http2 hands out only a proxy that refuses writes.
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
  const socket = sessionSocket(session);
  if (socket === undefined || session.closed || session.destroyed || !socket.writable) return end();
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
    socket.write(DRAIN_NOTICE);
    // the answer arrives inside nghttp2's frame callback, where closing a session aborts Node
    if (!session.ping(() => setImmediate(endOnce))) endOnce();
  } catch {
    endOnce();
  }
}

function sessionSocket(session: http2.ServerHttp2Session): Socket | undefined {
  try {
    return (session.socket as unknown as { [SOCKET]?: Socket })[SOCKET];
  } catch {
    return undefined; // the session has let go of its socket
  }
}
