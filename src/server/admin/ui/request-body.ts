/** Reads a POST body up to a limit; past it, reading stops and the caller answers 413. */
import type { IncomingMessage } from 'node:http';

export type BodyRead = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: 'too_large' | 'aborted' };

export function readLimitedBody(request: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve({ ok: false, reason: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyRead) => {
      request.removeAllListeners('data');
      resolve(result);
    };
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
