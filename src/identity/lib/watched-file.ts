/**
 * A key file (SPIFFE bundle, PEM roots, JWKS) kept parsed in memory. A reload that cannot read
 * or parse the file keeps the last good value and says why: a bad write never empties trust.
 *
 * A watcher's event is only a hint: `refresh` reads the file again only when its stat has
 * changed since the last read. Where reading a file itself raises an event (filesystems that
 * report access times, as some container bind mounts do), reading on every event would wake
 * the watcher again, forever; and a missing file would be "read" in a loop.
 */
import { readFile, stat } from 'node:fs/promises';
import { BundleError } from '../errors.js';

export type ReloadOutcome<T> =
  | { readonly status: 'loaded'; readonly value: T }
  /** Read, and the same as the value in service: the file is good. */
  | { readonly status: 'unchanged' }
  /** Not read: its stat has not changed since the last read, so neither has what that read found. */
  | { readonly status: 'skipped' }
  | { readonly status: 'failed'; readonly error: BundleError; readonly keptLastGood: boolean };

export class WatchedFile<T> {
  #value: T | undefined;
  #raw: string | undefined;
  /** The stat of the file when it was last read (or why it could not be stat'ed). */
  #readAt: string | undefined;
  #reloading: Promise<ReloadOutcome<T>> | undefined;

  constructor(
    readonly path: string,
    private readonly parse: (text: string) => T,
  ) {}

  /** The last good value; undefined until a load succeeds. */
  get value(): T | undefined {
    return this.#value;
  }

  /** Reads the file again; concurrent calls share one read. */
  reload(): Promise<ReloadOutcome<T>> {
    this.#reloading ??= this.#load().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** Reads the file again only if its stat changed since it was last read. */
  async refresh(): Promise<ReloadOutcome<T>> {
    if (this.#reloading === undefined && (await fileStamp(this.path)) === this.#readAt) return { status: 'skipped' };
    return this.reload();
  }

  async #load(): Promise<ReloadOutcome<T>> {
    // stamped before the read: a change during the read leaves a stamp that differs from the file's next one
    this.#readAt = await fileStamp(this.path);
    let raw: string;
    try {
      raw = await readFile(this.path, 'utf8');
    } catch (cause) {
      return this.#failed(new BundleError('ERR_BUNDLE_READ', `cannot read ${this.path}`, { cause }));
    }
    if (raw === this.#raw) return { status: 'unchanged' };
    try {
      const value = this.parse(raw);
      this.#value = value;
      this.#raw = raw;
      return { status: 'loaded', value };
    } catch (error) {
      const wrapped = error instanceof BundleError ? error : new BundleError('ERR_BUNDLE_INVALID', String(error), { cause: error });
      return this.#failed(wrapped);
    }
  }

  #failed(error: BundleError): ReloadOutcome<T> {
    return { status: 'failed', error, keptLastGood: this.#value !== undefined };
  }
}

/** Identity, size and times of the file a path names now (through symlinks, as a read sees it). */
async function fileStamp(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (error) {
    return `unreadable:${(error as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}
