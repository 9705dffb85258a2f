/**
 * Collects the body Envoy forwards (`with_request_body`) under two bounds, each checked before
 * the bytes it bounds are kept: `http.limits.bodyBytes` for one request (a declared length past
 * it is refused unread) and the server-wide `BufferBudget` for all requests still arriving.
 */
import type { IncomingMessage } from 'node:http';
import type { BufferBudget } from '../grpc/buffer-budget.js';

export type BodyOutcome =
  /** `release` gives back what the body held, once the Check is answered: the body is kept until then. */
  | { readonly kind: 'read'; readonly body: Uint8Array | undefined; readonly release: () => void }
  | { readonly kind: 'too_large'; readonly detail: string };

export interface BodyLimits {
  readonly bodyBytes: number;
  readonly budget: BufferBudget;
}

/** Calls `done` once (at once when there is no body), with the body or why it was not kept; never for a client that went away. */
export function readBody(request: IncomingMessage, limits: BodyLimits, done: (outcome: BodyOutcome) => void): void {
  const declared = declaredLength(request.rawHeaders);
  if (declared === 0) return done({ kind: 'read', body: undefined, release: noop });
  if (declared !== undefined && declared > limits.bodyBytes) {
    return done({ kind: 'too_large', detail: `content-length ${declared} is past http.limits.bodyBytes (${limits.bodyBytes})` });
  }
  new BodyReader(request, limits, done).listen();
}

const noop = (): void => {};

/** The declared length, from the raw headers node:http already parsed and checked (one value, digits). */
function declaredLength(raw: readonly string[]): number | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(raw[i + 1]);
  }
  return undefined;
}

class BodyReader {
  readonly #request: IncomingMessage;
  readonly #limits: BodyLimits;
  readonly #done: (outcome: BodyOutcome) => void;
  readonly #chunks: Buffer[] = [];
  #length = 0;
  #reserved = 0;
  #settled = false;

  constructor(request: IncomingMessage, limits: BodyLimits, done: (outcome: BodyOutcome) => void) {
    this.#request = request;
    this.#limits = limits;
    this.#done = done;
  }

  listen(): void {
    const request = this.#request;
    request.on('data', this.#onData);
    request.once('end', this.#onEnd);
    // a client that went away is answered by nobody; what it held goes back now
    request.once('error', this.release);
    request.once('aborted', this.release);
  }

  readonly release = (): void => {
    this.#settled = true;
    this.#chunks.length = 0;
    this.#limits.budget.release(this.#reserved);
    this.#reserved = 0;
    this.#request.off('data', this.#onData);
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#settled) return;
    this.#length += chunk.length;
    if (this.#length > this.#limits.bodyBytes) return this.#refuse(`the body is past http.limits.bodyBytes (${this.#limits.bodyBytes})`);
    if (!this.#limits.budget.reserve(chunk.length)) return this.#refuse('the server holds http.limits.bufferedBytes of bodies already');
    this.#reserved += chunk.length;
    this.#chunks.push(chunk);
  };

  readonly #onEnd = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    const chunks = this.#chunks;
    const body = chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#length);
    this.#done({ kind: 'read', body, release: this.release });
  };

  /** Stops keeping bytes at once; the rest of the body is never read (the connection closes after the answer). */
  #refuse(detail: string): void {
    this.release();
    this.#request.pause();
    this.#done({ kind: 'too_large', detail });
  }
}
