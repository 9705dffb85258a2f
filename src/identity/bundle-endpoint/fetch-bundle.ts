/**
 * One GET of a SPIFFE bundle endpoint (profile https_web): plain HTTPS, the server verified by
 * the web PKI or the configured CA. The server is another organisation's and may be hostile or
 * broken, so the whole exchange is bounded: one deadline from the first connect to the last
 * byte, a body limit checked as bytes arrive (and against Content-Length before any is read),
 * only a 200 accepted. Redirects are followed as SPIFFE Federation §5.2.1.4 asks, at most
 * MAX_REDIRECTS, each to an https URL without userinfo and verified as the first; the next
 * poll starts again from the configured URL.
 */
import type { IncomingMessage } from 'node:http';
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

export const MAX_REDIRECTS = 3;

type Answer = { readonly body: string } | { readonly redirect: string };

/** The response body as text; rejects with BundleFetchError. */
export async function fetchBundleText(target: FetchTarget): Promise<string> {
  const deadline = performance.now() + target.timeoutMs;
  let url = target.url;
  for (let redirects = 0; ; redirects += 1) {
    const answer = await getOnce(url, target, Math.max(0, deadline - performance.now()));
    if ('body' in answer) return answer.body;
    if (redirects === MAX_REDIRECTS) throw new BundleFetchError('http_error', `more than ${MAX_REDIRECTS} redirects`);
    url = redirectTarget(url, answer.redirect);
  }
}

/** The redirect's target, if it is a valid https_web endpoint URL (§5.2.1.1): https, no userinfo. */
function redirectTarget(from: URL, location: string): URL {
  const to = URL.canParse(location, from.href) ? new URL(location, from) : undefined;
  if (to === undefined || to.protocol !== 'https:' || to.username !== '' || to.password !== '') {
    throw new BundleFetchError('http_error', `redirected to "${location.slice(0, 200)}", not an https URL without userinfo`);
  }
  return to;
}

function getOnce(url: URL, target: FetchTarget, withinMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const fail = (error: BundleFetchError): void => {
      req.destroy();
      reject(error);
    };
    const req = request(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      ...(target.ca === undefined ? {} : { ca: target.ca }),
      // a fresh connection per poll: polls are minutes apart, and no pooled socket outlives close()
      agent: false,
    });
    const timer = setTimeout(() => fail(new BundleFetchError('error', `no complete answer within ${target.timeoutMs} ms`)), withinMs);
    timer.unref();
    req.once('close', () => {
      clearTimeout(timer);
      // after 'end' has had its turn: a connection cut mid-answer must not leave the poll hanging
      setImmediate(() => reject(new BundleFetchError('error', 'connection closed before a complete answer')));
    });
    req.once('error', (cause) => fail(new BundleFetchError('error', cause.message, { cause })));
    req.once('response', (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        resolve({ redirect: location });
        return req.destroy();
      }
      if (status !== 200) return fail(new BundleFetchError('http_error', `answered HTTP ${status}`));
      readBody(response, target.maxBytes).then((body) => resolve({ body }), fail);
    });
    req.end();
  });
}

function readBody(response: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(response.headers['content-length']) > maxBytes) return reject(tooLarge(maxBytes));
    const chunks: Buffer[] = [];
    let bytes = 0;
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return reject(tooLarge(maxBytes));
      chunks.push(chunk);
    });
    response.once('error', (cause) => reject(new BundleFetchError('error', cause.message, { cause })));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function tooLarge(maxBytes: number): BundleFetchError {
  return new BundleFetchError('too_large', `answer longer than ${maxBytes} bytes (refused unread)`);
}
