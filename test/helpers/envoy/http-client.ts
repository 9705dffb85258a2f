/**
 * One request to Envoy over HTTP/1.1, plain or TLS, with a bounded timeout and no connection
 * reuse, so each request is its own caller. The path is sent byte for byte as given.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ClientTls {
  readonly ca: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly servername?: string;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
  readonly tls?: ClientTls;
  readonly timeoutMs?: number;
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  json(): Record<string, unknown>;
}

export function send(port: number, path: string, options: SendOptions = {}): Promise<Answer> {
  const common = { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false as const };
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown> });
      });
    };
    const req = options.tls
      ? httpsRequest({ ...common, ...options.tls, servername: options.tls.servername ?? 'localhost' }, onResponse)
      : httpRequest(common, onResponse);
    req.setTimeout(options.timeoutMs ?? 5_000, () => req.destroy(new Error(`${common.method} ${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
