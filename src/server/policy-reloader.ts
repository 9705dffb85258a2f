/**
 * Keeps the policy snapshot in service: loads and compiles the policy files, swaps the new
 * snapshot in one assignment, and reloads when the files change or on demand (SIGHUP).
 * Reloads run one at a time in request order, so an older load never replaces a newer one;
 * a set of files that fails to load or compile leaves the snapshot in service untouched.
 */
import {
  compileTree,
  formatPolicyError,
  loadPolicies,
  countRules,
  snapshotHash,
  type LoadResult,
  type PolicyError,
  type EngineOptions,
  type PolicySnapshot,
} from '../policy/index.js';
import { watchPaths, type PathWatch } from '../lib/index.js';

export type ReloadResult =
  | {
      readonly ok: true;
      readonly snapshot: PolicySnapshot;
      readonly warnings: readonly string[];
      /** The sources are those of the snapshot in service: nothing was swapped. */
      readonly unchanged: boolean;
    }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface PolicyReloaderOptions {
  readonly paths: readonly string[];
  readonly engine: EngineOptions;
  readonly debounceMs: number;
  /** Told of every reload, successful or not (metrics, logs). Its errors are ignored. */
  readonly onReload?: (result: ReloadResult) => void;
  /** Reads and checks the policy files; default `loadPolicies` (tests hold or fail it). */
  readonly load?: (paths: readonly string[], options: { rootNamespace: string }) => Promise<LoadResult>;
}

/** A burst of changes waits at most this many debounce periods. */
const MAX_DEBOUNCES = 10;

export class PolicyReloader {
  readonly #options: PolicyReloaderOptions;
  #current: PolicySnapshot | undefined;
  #generation = 0;
  #running: Promise<ReloadResult> | undefined;
  #again = false;
  #watch: PathWatch | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #burstStartedAt = 0;

  constructor(options: PolicyReloaderOptions) {
    this.#options = options;
  }

  get current(): PolicySnapshot | undefined {
    return this.#current;
  }

  /** Load now; if a load is running, one more pass runs after it and every caller gets its result. */
  reload(): Promise<ReloadResult> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loadLoop();
    return this.#running;
  }

  /** Watch the policy paths; changes are debounced into one reload. */
  watch(): void {
    this.#watch?.close();
    this.#watch = watchPaths(this.#options.paths, () => this.#scheduleReload());
  }

  close(): void {
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    this.#watch?.close();
    this.#watch = undefined;
  }

  /**
   * Trailing debounce: a burst of changes is one reload after it goes quiet. Files that never
   * go quiet (a writer in a loop) still reload every MAX_DEBOUNCES periods, never starve.
   */
  #scheduleReload(): void {
    const { debounceMs } = this.#options;
    if (this.#debounce === undefined) this.#burstStartedAt = Date.now();
    else if (Date.now() - this.#burstStartedAt >= debounceMs * MAX_DEBOUNCES) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.reload();
    }, debounceMs);
    this.#debounce.unref();
  }

  async #loadLoop(): Promise<ReloadResult> {
    let result: ReloadResult;
    do {
      this.#again = false;
      result = await this.#loadOnce();
      try {
        this.#options.onReload?.(result);
      } catch {
        // a hook that throws must not wedge reloading: #running would never be cleared
      }
    } while (this.#again);
    this.#running = undefined;
    return result;
  }

  /**
   * A file that held policies and now holds none is most likely caught mid-write (truncated,
   * not yet rewritten): swapping it in could drop a DENY. It fails the reload; deleting the
   * file is how its policies are removed on purpose.
   */
  #emptiedFiles(warnings: readonly PolicyError[]): string[] {
    const current = this.#current;
    if (current === undefined) return [];
    return warnings
      .filter((w) => w.code === 'empty_file' && current.policies.some((p) => p.origin.file === w.file))
      .map((w) => `${w.file}: held policies and is now empty (a partial write?); delete the file to remove its policies`);
  }

  async #loadOnce(): Promise<ReloadResult> {
    const { paths, engine, load = loadPolicies } = this.#options;
    try {
      const loaded = await load(paths, { rootNamespace: engine.rootNamespace });
      if (loaded.errors.length > 0) return { ok: false, errors: loaded.errors.map(formatPolicyError) };
      const emptied = this.#emptiedFiles(loaded.warnings);
      if (emptied.length > 0) return { ok: false, errors: emptied };
      const warnings = loaded.warnings.map(formatPolicyError);
      const hash = snapshotHash(loaded.files);
      // Same sources, same snapshot: keeping the generation keeps the decision cache warm.
      if (this.#current?.hash === hash) return { ok: true, snapshot: this.#current, warnings, unchanged: true };
      const tree = compileTree(loaded.policies, engine);
      const snapshot: PolicySnapshot = Object.freeze({
        generation: this.#generation + 1,
        tree,
        policies: loaded.policies,
        files: loaded.files,
        hash,
        policyCount: loaded.policies.length,
        ruleCount: countRules(loaded.policies),
        loadedAt: Date.now(),
        options: engine,
      });
      this.#generation = snapshot.generation;
      this.#current = snapshot;
      return { ok: true, snapshot, warnings, unchanged: false };
    } catch (error) {
      return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
    }
  }
}
