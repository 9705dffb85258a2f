/**
 * A real HTTP receiver on 127.0.0.1 for the decision-log sinks: it keeps every request's raw
 * bytes and headers, can go down (listener closed: connections refused) and come back on the
 * same port, and lets a test await what has arrived instead of sleeping.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as it came over the wire. */
  readonly raw: Buffer;
  /** The body after Content-Encoding is undone. */
  readonly text: string;
  readonly json: unknown;
}

export class Receiver {
  readonly requests: Received[] = [];
  /** The elements of every JSON array body (OPA events), in arrival order. */
  readonly events: Record<string, unknown>[] = [];
  private server: Server | undefined;
  private port = 0;
  private waiters = new Set<() => void>();

  /** Answers every request with `status` (200 unless a test says otherwise). */
  status = 200;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        const json = JSON.parse(text) as unknown;
        this.requests.push({ path: request.url ?? '', headers: request.headers, raw, text, json });
        if (Array.isArray(json)) this.events.push(...(json as Record<string, unknown>[]));
        response.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
        this.waiters.forEach((wake) => wake());
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Down: the listener closes and open connections are cut, so sends are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `done()` holds, checked after each request; rejects after `timeoutMs`. */
  until(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests so far)`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }
}

/**
 * Resolves once `done()` holds, polled every 10 ms: for the sender's own counters, which
 * move when it reads the receiver's answer, after the receiver's request event.
 */
export async function waitFor(done: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A loopback port nothing listens on (bound, then closed): connections to it are refused. */
export async function closedLoopbackPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
