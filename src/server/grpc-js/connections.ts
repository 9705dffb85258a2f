/**
 * The listener's own socket side: meshwarden accepts connections on a node:net server and
 * hands each to grpc-js (its connection injector), so the connection cap is node:net's
 * `maxConnections`, a dead unix socket is reclaimed like the native transport's,
 * and each open connection is known, which lets admission judge a client once per connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ServerInterceptingCallInterface } from '@grpc/grpc-js';
import type { ClientAdmission } from '../grpc/listener.js';

export class ConnectionTable {
  readonly #sockets = new Set<Socket>();
  /**
   * Open TCP connections by peer (`address:port`, as grpc-js' getPeer writes it): the socket,
   * to cut one whose client misbehaves, and the admission verdict once judged.
   */
  readonly #byPeer = new Map<string, { readonly socket: Socket; verdict?: boolean }>();

  /** A node:net server whose connections are tracked here, then handed to `accept`; more than `maxConnections` are closed as they arrive. */
  listener(maxConnections: number, accept: (socket: Socket) => void): Server {
    const server = createServer((socket) => {
      this.#track(socket);
      accept(socket);
    });
    server.maxConnections = maxConnections;
    return server;
  }

  /** Connections open now, TLS handshakes included. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Cuts every connection still open (TLS handshakes included), after the grace of a shutdown. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Cuts the connection a call came on (TCP only: a unix socket has no peer to find it by). */
  cut(call: ServerInterceptingCallInterface): void {
    this.#byPeer.get(call.getPeer())?.socket.destroy();
  }

  /**
   * Each connection's client is judged once, on its first call. A call whose peer is not a
   * known open TCP connection (a unix socket has no peer address) is judged on its own.
   */
  admission(admitClient: ClientAdmission): (call: ServerInterceptingCallInterface) => boolean {
    return (call) => {
      const connection = this.#byPeer.get(call.getPeer());
      if (connection?.verdict !== undefined) return connection.verdict;
      const verdict = judge(admitClient, call);
      if (connection !== undefined) connection.verdict = verdict;
      return verdict;
    };
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('error', () => {}); // a broken connection ends its own calls only
    const peer = socket.remoteAddress !== undefined && socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : undefined;
    if (peer !== undefined) this.#byPeer.set(peer, { socket });
    socket.once('close', () => {
      this.#sockets.delete(socket);
      // the next connection from the same address and port is a new client
      if (peer !== undefined) this.#byPeer.delete(peer);
    });
  }
}

/** Fails closed: an admission hook that throws refuses. */
function judge(admitClient: ClientAdmission, call: ServerInterceptingCallInterface): boolean {
  try {
    return admitClient(call.getAuthContext().sslPeerCertificate) === true;
  } catch {
    return false;
  }
}
