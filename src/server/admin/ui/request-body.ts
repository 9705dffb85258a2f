/**
 * Reads a POST body up to a limit in bytes and in time; past either, reading stops and the
 * caller answers 413 or 408. The time bound is the body's own, shorter than the admin server's
 * requestTimeout, and answered: a body dripped a byte at a time held the what-if's connection,
 * and the rate token it had taken, until node:http cut it off without a word.
 */
import type { IncomingMessage } from 'node:http';

export type BodyRead = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: 'too_large' | 'too_slow' | 'aborted' };

export function readLimitedBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve({ ok: false, reason: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyRead) => {
      clearTimeout(timer);
      request.removeAllListeners('data');
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: 'too_slow' }), timeoutMs);
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish({ ok: false, reason: 'too_large' });
      else chunks.push(chunk);
    });
    request.once('end', () => finish({ ok: true, body: Buffer.concat(chunks) }));
    request.once('error', () => finish({ ok: false, reason: 'aborted' }));
    request.once('aborted', () => finish({ ok: false, reason: 'aborted' }));
  });
}
