/**
 * A raw HTTP/1.1 client over a net.Socket, for tests that must send what no well-behaved client
 * sends (repeated headers, oversized heads, lying lengths, half a request): bytes are written as
 * given, and the answer is read until the server closes the connection or a bounded wait ends.
 */
import net from 'node:net';

export interface RawAnswer {
  /** The status code of the first response, 0 when none came. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Whether the server closed the connection before the wait ended. */
  readonly closed: boolean;
  /** Everything received, as latin1 text. */
  readonly raw: string;
}

export interface ExchangeOptions {
  /** The longest wait, in all (default 2 s). */
  readonly waitMs?: number;
  /** Between two parts. */
  readonly gapMs?: number;
  /** Wait for the server to close the connection (or `waitMs`), not only for the first whole response. */
  readonly untilClose?: boolean;
}

/** `address` is `host:port`; `parts` are written in order, `gapMs` apart. */
export function rawExchange(address: string, parts: readonly (string | Buffer)[], options: ExchangeOptions = {}): Promise<RawAnswer> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const received: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(received).toString('latin1'), closed));
    };
    const timer = setTimeout(finish, options.waitMs ?? 2_000);
    socket.on('data', (chunk) => {
      received.push(chunk);
      if (!options.untilClose && isWhole(Buffer.concat(received).toString('latin1'))) finish();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => void writeParts(socket, parts, options.gapMs ?? 0));
  });
}

async function writeParts(socket: net.Socket, parts: readonly (string | Buffer)[], gapMs: number): Promise<void> {
  for (const part of parts) {
    if (socket.destroyed) return;
    socket.write(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

/** A request as Envoy's HTTP client would write it, `headers` in order (repeat a name to repeat it). */
export function httpRequest(method: string, target: string, headers: ReadonlyArray<readonly [string, string]>, body = ''): string {
  const length = body === '' && !headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name)) ? [['content-length', '0'] as const] : [];
  const lines = [...headers, ...length].map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `${method} ${target} HTTP/1.1\r\n${lines}\r\n${body}`;
}

/** A response whose head ended and whose body is as long as it said (an answer without content-length is never whole). */
function isWhole(raw: string): boolean {
  const end = raw.indexOf('\r\n\r\n');
  const length = /\r\ncontent-length: *(\d+)/i.exec(raw.slice(0, end))?.[1];
  return end >= 0 && length !== undefined && raw.length >= end + 4 + Number(length);
}

function parseAnswer(raw: string, closed: boolean): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', closed, raw };
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? raw.length - end - 4);
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4, end + 4 + length), closed, raw };
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
