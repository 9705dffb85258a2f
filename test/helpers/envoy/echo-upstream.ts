/**
 * The workload behind Envoy: a node:http server on 127.0.0.1 that answers every request with
 * the request line and headers it received, as JSON, and records each one, so a test can say
 * what reached the workload, and that nothing did.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  /** Bytes of request body received. */
  bodyBytes: number;
}

export class EchoUpstream {
  readonly requests: SeenRequest[] = [];
  readonly #server: Server;

  private constructor() {
    // as much header as Envoy lets through (node:http's own default is 16 KiB)
    this.#server = createServer({ maxHeaderSize: 128 * 1024 }, (request, response) => {
      const seen: SeenRequest = { method: request.method ?? '', url: request.url ?? '', httpVersion: request.httpVersion, headers: request.headers, bodyBytes: 0 };
      this.requests.push(seen);
      request.on('data', (chunk: Buffer) => (seen.bodyBytes += chunk.length)).on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json', 'x-echo': 'upstream' }).end(JSON.stringify(seen));
      });
    });
  }

  static async start(): Promise<EchoUpstream> {
    const upstream = new EchoUpstream();
    await new Promise<void>((resolve) => upstream.#server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Requests seen whose path starts with `prefix`. */
  saw(prefix: string): SeenRequest[] {
    return this.requests.filter((r) => r.url.startsWith(prefix));
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}
