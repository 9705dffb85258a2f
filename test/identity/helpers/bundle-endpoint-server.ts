/**
 * A SPIFFE bundle endpoint for tests: a real node:https server on 127.0.0.1 with a certificate
 * from the test PKI (a CA made per run), answering each GET with what the test set last.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Issuer, TestPki } from './pki.js';

export type Answer =
  | { readonly status?: number; readonly body: string; readonly headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | 'hang';

export class BundleEndpointServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #answer: Answer = { status: 503, body: 'not set' };
  readonly #answersByPath = new Map<string, Answer>();
  /** GETs answered so far (a poll is one, plus one per redirect followed). */
  requests = 0;
  /** The paths asked for, in order. */
  readonly paths: string[] = [];

  constructor(pki: TestPki, ca: Issuer, name = 'bundle-endpoint') {
    const cert = pki.leaf(name, ca, { extra: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
    const key = readFileSync(join(pki.dir, `${name}.key`));
    this.#server = createServer({ cert, key }, (request, response) => {
      this.requests++;
      this.paths.push(request.url ?? '');
      const answer = this.#answersByPath.get(request.url ?? '') ?? this.#answer;
      if (answer === 'hang') return;
      response.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      response.end(answer.body);
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}/bundle`;
  }

  async start(port = 0): Promise<void> {
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  /** What every following GET gets. */
  answer(answer: Answer): void {
    this.#answer = answer;
  }

  /** What GETs of `path` get, whatever `answer` says for the others. */
  answerAt(path: string, answer: Answer): void {
    this.#answersByPath.set(path, answer);
  }

  /** A SPIFFE bundle (JWK Set) as JSON. */
  serve(bundle: Record<string, unknown>): void {
    this.answer({ body: JSON.stringify(bundle) });
  }

  /** Stops listening and cuts every open connection: the endpoint is down. */
  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    if (this.#server.listening) await new Promise((resolve) => this.#server.close(resolve));
  }
}
