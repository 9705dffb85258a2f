/**
 * The one file watcher: tells its owner that files or directory trees may have changed
 * (policies, trust bundles and keys, TLS material). A file is watched through its directory,
 * whose watch survives the file's replacement by rename or by a Kubernetes `..data` symlink
 * flip. Each directory of a tree gets a watch of its own, not one `recursive` watch: on
 * Linux, Node 20 emulates `recursive` with per-file watches that go deaf once a file is
 * replaced by a rename (editors, config management), and it reports late. The set of watched
 * directories follows the tree as it changes. With `debounceMs`, a burst of events is told
 * once, after the burst.
 */
import { readdirSync, realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface PathWatch {
  close(): void;
}

/** Far more directories than a policy tree has; a bound against a symlink maze. */
const MAX_DIRECTORIES = 1024;

export interface PathWatchOptions {
  /** Tell a burst of events once, this long after the last of them; default 0: at once. */
  readonly debounceMs?: number;
  /** Whether the watch keeps the process alive (default true, as node:fs's). */
  readonly persistent?: boolean;
}

export function watchPaths(paths: readonly string[], onChange: () => void, options: PathWatchOptions = {}): PathWatch {
  const tell = debounced(onChange, options.debounceMs ?? 0);
  const persistent = options.persistent ?? true;
  const fileWatchers: FSWatcher[] = [];
  const directories = new Map<string, FSWatcher>();
  const roots: string[] = [];
  let closed = false;
  let resyncQueued = false;

  const changed = (): void => {
    if (closed) return;
    tell.call();
    if (resyncQueued || roots.length === 0) return;
    resyncQueued = true;
    setImmediate(() => {
      resyncQueued = false;
      if (!closed) resync();
    });
  };

  /** Watches every directory of the trees now, and only those. */
  const resync = (): void => {
    const wanted = new Set<string>();
    for (const root of roots) collectDirectories(root, wanted);
    for (const [dir, watcher] of directories) {
      if (wanted.has(dir)) continue;
      watcher.close();
      directories.delete(dir);
    }
    for (const dir of wanted) {
      if (directories.has(dir)) continue;
      const watcher = tryWatch(dir, persistent, () => changed());
      if (watcher) directories.set(dir, watcher);
    }
  };

  for (const path of paths) {
    if (isDirectory(path)) {
      roots.push(path);
      continue;
    }
    // A file is watched through its directory, whose watch survives the file's replacement.
    // Kubernetes swaps a mounted ConfigMap's `..data` symlink: `..` names count as a change.
    const name = basename(path);
    const watcher = tryWatch(dirname(path), persistent, (changedName) => {
      if (changedName === null || changedName === name || changedName.startsWith('..')) changed();
    });
    if (watcher) fileWatchers.push(watcher);
  }
  resync();

  return {
    close() {
      closed = true;
      tell.cancel();
      for (const watcher of [...fileWatchers, ...directories.values()]) watcher.close();
      fileWatchers.length = 0;
      directories.clear();
    },
  };
}

function debounced(onChange: () => void, ms: number): { call(): void; cancel(): void } {
  if (ms <= 0) return { call: onChange, cancel: () => {} };
  let timer: NodeJS.Timeout | undefined;
  return {
    call() {
      clearTimeout(timer);
      timer = setTimeout(onChange, ms);
      timer.unref();
    },
    cancel: () => clearTimeout(timer),
  };
}

/** A path that cannot be watched (missing now) is left to SIGHUP. */
function tryWatch(dir: string, persistent: boolean, onEvent: (name: string | null) => void): FSWatcher | undefined {
  try {
    const watcher = watch(dir, { persistent }, (_event, name) => onEvent(name));
    watcher.on('error', () => onEvent(null));
    return watcher;
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The directory and its subdirectories, hidden ones included (`..data` is where ConfigMap files live). */
function collectDirectories(dir: string, into: Set<string>, seen = new Set<string>()): void {
  if (into.size >= MAX_DIRECTORIES) return;
  let real: string;
  let names: string[];
  try {
    real = realpathSync(dir);
    if (seen.has(real)) return;
    names = readdirSync(dir);
  } catch {
    return;
  }
  seen.add(real);
  into.add(dir);
  for (const name of names) {
    const path = join(dir, name);
    if (isDirectory(path)) collectDirectories(path, into, seen);
  }
}
