/**
 * Keeps the policy snapshot in service: loads and compiles the policy files, swaps the new
 * snapshot in one assignment, and reloads when the files change or on demand (SIGHUP).
 * Reloads run one at a time in request order, so an older load never replaces a newer one;
 * a set of files that fails to load or compile leaves the snapshot in service untouched.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { compileTree } from '../policy/engine/index.js';
import { formatPolicyError, loadPolicies, type LoadResult } from '../policy/load/index.js';
import { countRules, type EngineOptions } from '../policy/model.js';
import { snapshotHash, type PolicySnapshot } from '../policy/snapshot.js';

export type ReloadResult =
  | { readonly ok: true; readonly snapshot: PolicySnapshot; readonly warnings: readonly string[] }
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

export class PolicyReloader {
  readonly #options: PolicyReloaderOptions;
  #current: PolicySnapshot | undefined;
  #generation = 0;
  #running: Promise<ReloadResult> | undefined;
  #again = false;
  #watchers: FSWatcher[] = [];
  #debounce: NodeJS.Timeout | undefined;

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
    for (const path of this.#options.paths) {
      try {
        const watcher = statSync(path).isDirectory() ? this.#watchDirectory(path) : this.#watchFile(path);
        watcher.on('error', () => this.#scheduleReload());
        this.#watchers.push(watcher);
      } catch {
        // A path that cannot be watched (missing now) still reloads on SIGHUP.
      }
    }
  }

  close(): void {
    clearTimeout(this.#debounce);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  #watchDirectory(path: string): FSWatcher {
    return watch(path, { recursive: true }, () => this.#scheduleReload());
  }

  /**
   * A file is watched through its directory: a watch on the file itself dies with its inode
   * when the file is replaced by a rename (editors, config management). Kubernetes swaps a
   * mounted ConfigMap's `..data` symlink, so `..`-names count as a change of the file too;
   * other neighbours (a decision log next to the policy) do not.
   */
  #watchFile(path: string): FSWatcher {
    const name = basename(path);
    return watch(dirname(path), (_event, changed) => {
      if (changed === null || changed === name || changed.startsWith('..')) this.#scheduleReload();
    });
  }

  #scheduleReload(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), this.#options.debounceMs);
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

  async #loadOnce(): Promise<ReloadResult> {
    const { paths, engine, load = loadPolicies } = this.#options;
    try {
      const loaded = await load(paths, { rootNamespace: engine.rootNamespace });
      if (loaded.errors.length > 0) return { ok: false, errors: loaded.errors.map(formatPolicyError) };
      const tree = compileTree(loaded.policies, engine);
      const snapshot: PolicySnapshot = Object.freeze({
        generation: this.#generation + 1,
        tree,
        policies: loaded.policies,
        files: loaded.files,
        hash: snapshotHash(loaded.files),
        policyCount: loaded.policies.length,
        ruleCount: countRules(loaded.policies),
        loadedAt: Date.now(),
        options: engine,
      });
      this.#generation = snapshot.generation;
      this.#current = snapshot;
      return { ok: true, snapshot, warnings: loaded.warnings.map(formatPolicyError) };
    } catch (error) {
      return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
    }
  }
}
