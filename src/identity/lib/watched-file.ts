/**
 * A key file (SPIFFE bundle, PEM roots, JWKS) kept parsed in memory. A reload that cannot read
 * or parse the file keeps the last good value and says why: a bad write never empties trust.
 */
import { readFile } from 'node:fs/promises';
import { BundleError } from '../errors.js';

export type ReloadOutcome<T> =
  | { readonly status: 'loaded'; readonly value: T }
  | { readonly status: 'unchanged' }
  | { readonly status: 'failed'; readonly error: BundleError; readonly keptLastGood: boolean };

export class WatchedFile<T> {
  #value: T | undefined;
  #raw: string | undefined;
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

  async #load(): Promise<ReloadOutcome<T>> {
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
