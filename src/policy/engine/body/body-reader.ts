/**
 * Reads the body of one request at most once for a compiled policy set: the decision cache's
 * key and the tree's conditions both ask, one after the other, in the same synchronous turn.
 * One reader per tree; a tree that reads no body has none, and costs nothing here.
 */
import type { AccessRequest } from '../../../domain/index.js';
import { BodyPaths } from './body-paths.js';
import { DEFAULT_MAX_BODY_BYTES, MAX_BODY_DEPTH, readBody, type BodyLimits, type BodyRead } from './read-body.js';

export class BodyReader {
  // The last request read and what it gave: holds that one request until the next is read.
  #request: AccessRequest | undefined;
  #read: BodyRead = 'no_body';

  constructor(
    readonly paths: BodyPaths,
    readonly limits: BodyLimits,
  ) {}

  read(request: AccessRequest): BodyRead {
    if (request !== this.#request) {
      this.#read = readBody(request, this.limits, this.paths);
      this.#request = request;
    }
    return this.#read;
  }
}

/** The body limits of a compile (EngineOptions.maxBodyBytes); a misused one is a TypeError, at start-up or reload. */
export function bodyLimits(maxBodyBytes: number | undefined): BodyLimits {
  const maxBytes = maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new TypeError(`maxBodyBytes must be a positive integer, not ${maxBytes}`);
  return Object.freeze({ maxBytes, maxDepth: MAX_BODY_DEPTH });
}

// A tree's reads set stands for the tree where only the set is passed (decisionKeyBuilder).
const readers = new WeakMap<ReadonlySet<string>, BodyReader>();

export function registerBodyReader(reads: ReadonlySet<string>, reader: BodyReader): void {
  readers.set(reads, reader);
}

/** The reader registered for `reads`, or one with the default limits over the paths `reads` names. */
export function bodyReaderFor(reads: ReadonlySet<string>, paths: () => readonly (readonly string[])[]): BodyReader {
  const registered = readers.get(reads);
  if (registered !== undefined) return registered;
  const trie = new BodyPaths();
  for (const path of paths()) trie.add(path);
  return new BodyReader(trie, bodyLimits(undefined));
}
