/**
 * One GET of a SPIFFE bundle endpoint (profile https_web): plain HTTPS, the server verified by
 * the web PKI or the configured CA. The server is another organisation's and may be hostile or
 * broken, so the whole exchange is bounded: one deadline from connect to last byte, a body
 * limit checked as bytes arrive (and against Content-Length before any is read), no redirect
 * followed (the configured URL is the one trusted), only a 200 accepted.
 */
import { request } from 'node:https';
import { BundleError } from '../errors.js';

/** Why a fetch failed, as the fetch counter's `outcome` label says it. */
export type FetchFailureKind = 'error' | 'http_error' | 'too_large';

export class BundleFetchError extends BundleError {
  constructor(
    readonly kind: FetchFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_BUNDLE_FETCH', message, options);
  }
}

export interface FetchTarget {
  readonly url: URL;
  /** PEM CA certificates; undefined: Node's bundled web PKI roots. */
  readonly ca: string | undefined;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** The response body as text; rejects with BundleFetchError. */
export function fetchBundleText(target: FetchTarget): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (error: BundleFetchError): void => {
      req.destroy();
      reject(error);
    };
    const req = request(target.url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      ...(target.ca === undefined ? {} : { ca: target.ca }),
      // a fresh connection per poll: polls are minutes apart, and no pooled socket outlives close()
      agent: false,
    });
    const deadline = setTimeout(() => fail(new BundleFetchError('error', `no complete answer within ${target.timeoutMs} ms`)), target.timeoutMs);
    deadline.unref();
    req.once('close', () => clearTimeout(deadline));
    req.once('error', (cause) => fail(new BundleFetchError('error', cause.message, { cause })));
    req.once('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) return fail(new BundleFetchError('http_error', `answered HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`));
      const declared = Number(response.headers['content-length']);
      if (declared > target.maxBytes) return fail(tooLarge(target.maxBytes));
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > target.maxBytes) return fail(tooLarge(target.maxBytes));
        chunks.push(chunk);
      });
      response.once('error', (cause) => fail(new BundleFetchError('error', cause.message, { cause })));
      response.once('end', () => {
        clearTimeout(deadline);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
    });
    req.end();
  });
}

function tooLarge(maxBytes: number): BundleFetchError {
  return new BundleFetchError('too_large', `answer longer than ${maxBytes} bytes (refused unread)`);
}
