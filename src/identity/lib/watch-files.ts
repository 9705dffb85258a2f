/**
 * Key and bundle files, watched with the one file watcher (lib/watch-paths.ts): through their
 * directories, so a file replaced by rename or a symlink swap is seen, and a burst of events
 * is told once.
 */
import { watchPaths } from '../../lib/index.js';

/** Calls `onChange(path)` (maybe spuriously) when a watched file may have changed; returns a closer. */
export type WatchFn = (paths: readonly string[], onChange: (path: string) => void) => () => void;

const DEBOUNCE_MS = 25;

/** Any change re-reads every watched file: there are a handful, and a read of an unchanged one changes nothing. */
export const watchFiles: WatchFn = (paths, onChange) => {
  const watch = watchPaths(paths, () => paths.forEach((path) => onChange(path)), { debounceMs: DEBOUNCE_MS, persistent: false });
  return () => watch.close();
};
