/**
 * The listener's TLS material as files that rotate (X.509-SVIDs every hour): watched through
 * their directories, re-read together once the writes go quiet, checked, and only then handed
 * to the transports. A bad set keeps the material in service and is reported once per cause.
 */
import { readFile } from 'node:fs/promises';
import type { GrpcTlsMaterial, TlsMaterialSource } from '../grpc/listener.js';
import { watchPaths } from '../../lib/index.js';
import { checkTlsMaterial, TlsMaterialError, type ServedCertificate, type TlsMaterialPaths } from './tls-material-check.js';

export interface TlsRotation {
  readonly paths: TlsMaterialPaths;
  readonly certificate: ServedCertificate;
}

/** Tells `onChange` (maybe spuriously) that a path may have changed; returns its closer. */
export type TlsFileWatch = (paths: readonly string[], onChange: () => void) => { close(): void };

export interface TlsMaterialFilesOptions {
  /** Told of each material put in service after the first. Its errors are ignored. */
  readonly onRotated?: (rotation: TlsRotation) => void;
  /** Told once per distinct failure until the files are good again. Its errors are ignored. */
  readonly onRejected?: (error: TlsMaterialError) => void;
  /** Quiet time after the last change before the files are read; default 200 ms. */
  readonly debounceMs?: number;
  /**
   * Re-read this often without a change event, for watches that go deaf (a directory
   * replaced, a symlink into another directory); default 60 s, 0 never.
   */
  readonly resyncMs?: number;
  /** Default: directory watches that see renames into place and `..data` symlink flips. */
  readonly watch?: TlsFileWatch;
}

/** What a reload did: `rejected` keeps the material in service. */
export type TlsReloadOutcome = 'rotated' | 'unchanged' | 'rejected' | 'closed';

const DEFAULT_DEBOUNCE_MS = 200;
const DEFAULT_RESYNC_MS = 60_000;
/** Distinct failures remembered for the once-per-cause report (cleared by good files). */
const MAX_REMEMBERED_FAILURES = 64;

const defaultWatch: TlsFileWatch = (paths, onChange) => watchPaths(paths, onChange);

export class TlsMaterialFiles implements TlsMaterialSource {
  readonly #paths: TlsMaterialPaths;
  readonly #options: TlsMaterialFilesOptions;
  readonly #listeners = new Set<(material: GrpcTlsMaterial) => void>();
  readonly #reported = new Set<string>();
  readonly #watch: { close(): void };
  readonly #resync: NodeJS.Timeout | undefined;
  #current: GrpcTlsMaterial;
  #certificate: ServedCertificate;
  #debounce: NodeJS.Timeout | undefined;
  #running: Promise<TlsReloadOutcome> | undefined;
  #again = false;
  #closed = false;

  /** Reads and checks the files once (a TlsMaterialError if they are bad), then watches them. */
  static async open(paths: TlsMaterialPaths, options: TlsMaterialFilesOptions = {}): Promise<TlsMaterialFiles> {
    const first = checkTlsMaterial(await readMaterial(paths), paths);
    return new TlsMaterialFiles(paths, options, first.material, first.certificate);
  }

  private constructor(paths: TlsMaterialPaths, options: TlsMaterialFilesOptions, material: GrpcTlsMaterial, certificate: ServedCertificate) {
    const resyncMs = options.resyncMs ?? DEFAULT_RESYNC_MS;
    if (!(resyncMs >= 0) || !((options.debounceMs ?? 0) >= 0)) throw new TypeError('debounceMs and resyncMs must be ≥ 0');
    this.#paths = paths;
    this.#options = options;
    this.#current = material;
    this.#certificate = certificate;
    const files = [paths.cert, paths.key, ...(paths.clientCa === undefined ? [] : [paths.clientCa])];
    this.#watch = (options.watch ?? defaultWatch)(files, () => this.#schedule());
    this.#resync = resyncMs > 0 ? setInterval(() => void this.reload(), resyncMs).unref() : undefined;
  }

  get current(): GrpcTlsMaterial {
    return this.#current;
  }

  /** The leaf certificate in service. */
  get certificate(): ServedCertificate {
    return this.#certificate;
  }

  onChange(listener: (material: GrpcTlsMaterial) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Read the files now; if a read is running, one more runs after it and both callers get its outcome. */
  reload(): Promise<TlsReloadOutcome> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#reloadLoop();
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    this.#watch.close();
    clearTimeout(this.#debounce);
    clearInterval(this.#resync);
    this.#listeners.clear();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), this.#options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  async #reloadLoop(): Promise<TlsReloadOutcome> {
    let outcome: TlsReloadOutcome;
    do {
      this.#again = false;
      outcome = await this.#reloadOnce();
    } while (this.#again && !this.#closed);
    // no await between the last look at #again and this: a reload() asked now starts anew
    this.#running = undefined;
    return outcome;
  }

  async #reloadOnce(): Promise<TlsReloadOutcome> {
    let checked;
    try {
      const read = await readMaterial(this.#paths);
      if (this.#closed) return 'closed';
      if (sameMaterial(read, this.#current)) {
        this.#reported.clear();
        return 'unchanged';
      }
      checked = checkTlsMaterial(read, this.#paths);
    } catch (error) {
      return this.#reject(error);
    }
    this.#current = checked.material;
    this.#certificate = checked.certificate;
    this.#reported.clear();
    for (const listener of [...this.#listeners]) {
      try {
        listener(checked.material);
      } catch (error) {
        this.#reject(new TlsMaterialError('ERR_TLS_CONTEXT_REFUSED', this.#paths.cert, `the listener refused checked TLS material: ${messageOf(error)}`, { cause: error }));
      }
    }
    quietly(() => this.#options.onRotated?.({ paths: this.#paths, certificate: checked.certificate }));
    return 'rotated';
  }

  #reject(error: unknown): 'rejected' | 'closed' {
    if (this.#closed) return 'closed';
    const failure = error instanceof TlsMaterialError
      ? error
      : new TlsMaterialError('ERR_TLS_FILE_UNREADABLE', this.#paths.cert, messageOf(error), { cause: error });
    const key = `${failure.code}\n${failure.path}\n${failure.message}`;
    if (!this.#reported.has(key) && this.#reported.size < MAX_REMEMBERED_FAILURES) {
      this.#reported.add(key);
      quietly(() => this.#options.onRejected?.(failure));
    }
    return 'rejected';
  }
}

async function readMaterial(paths: TlsMaterialPaths): Promise<GrpcTlsMaterial> {
  const [cert, key, clientCa] = await Promise.all([
    readTlsFile(paths.cert),
    readTlsFile(paths.key),
    paths.clientCa === undefined ? undefined : readTlsFile(paths.clientCa),
  ]);
  return clientCa === undefined ? { cert, key } : { cert, key, clientCa };
}

async function readTlsFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new TlsMaterialError('ERR_TLS_FILE_UNREADABLE', path, `cannot read ${path}: ${messageOf(error)}`, { cause: error });
  }
}

/** The same certificate, key and client CA, byte for byte. */
export function sameMaterial(a: GrpcTlsMaterial, b: GrpcTlsMaterial): boolean {
  const sameCa = a.clientCa === undefined || b.clientCa === undefined ? a.clientCa === b.clientCa : a.clientCa.equals(b.clientCa);
  return sameCa && a.cert.equals(b.cert) && a.key.equals(b.key);
}

function quietly(report: () => void): void {
  try {
    report();
  } catch {
    // a logging hook never decides what is served
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
