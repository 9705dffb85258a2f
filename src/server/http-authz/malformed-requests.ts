/**
 * What node:http could not parse into a request (headers past the bound, a malformed request
 * line, a bad length, a request that took too long to arrive, CONNECT) has no request or
 * response object: it is answered here, on the socket, then the connection closed. Each is a
 * 400 the Check service made, so it is logged and counted like every refusal; a timeout is a 408.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AuthorizationService } from '../../check/index.js';
import type { HttpServiceAnswer } from '../../envoy/index.js';

/** node:http's error codes for a client that went away: nobody to answer. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'HPE_INVALID_EOF_STATE']);

const TIMED_OUT: HttpServiceAnswer = Object.freeze({
  status: 408,
  headers: Object.freeze({ 'content-type': 'application/json' }),
  body: '{"error":"request_timeout","request_id":""}',
});

/** The server's `clientError` listener. */
export function answerClientError(authorization: AuthorizationService, headerBytes: number) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    const code = error.code ?? 'unknown';
    if (GONE.has(code) || !canAnswer(socket)) {
      socket.destroy();
      return;
    }
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      writeAndClose(socket, TIMED_OUT);
    } else if (code === 'HPE_HEADER_OVERFLOW') {
      authorization.refuseHttp('request_too_large', 'headers', `the request line and headers are past http.limits.headerBytes (${headerBytes})`, (answer) => writeAndClose(socket, answer));
    } else {
      authorization.refuseHttp('missing_http_attributes', 'request', `not an HTTP/1.1 request Envoy could have sent (${code})`, (answer) => writeAndClose(socket, answer));
    }
  };
}

/** The server's `connect` listener: Envoy's authorization request is never a CONNECT, and its target is no path. */
export function answerConnect(authorization: AuthorizationService) {
  return (_request: unknown, socket: Duplex): void => {
    authorization.refuseHttp('invalid_path', 'path', 'CONNECT names an authority, not a path', (answer) => writeAndClose(socket, answer));
  };
}

/** Not when a response on this connection has begun already: bytes written now would land inside it. */
function canAnswer(socket: Duplex): boolean {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return socket.writable && inFlight?.headersSent !== true;
}

function writeAndClose(socket: Duplex, answer: HttpServiceAnswer): void {
  if (!socket.writable) return void socket.destroy();
  const body = Buffer.from(answer.body, 'utf8');
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(answer.headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}
