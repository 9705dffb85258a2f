/**
 * Watches key files for changes. It watches the parent directory, not the file: editors,
 * SPIRE helpers and Kubernetes ConfigMap updates replace files by rename or symlink swap,
 * which a watch on the old inode would never see. Events are debounced per directory.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** Calls `onChange(path)` (maybe spuriously) when a watched file may have changed; returns a closer. */
export type WatchFn = (paths: readonly string[], onChange: (path: string) => void) => () => void;

const DEBOUNCE_MS = 25;

export const watchFiles: WatchFn = (paths, onChange) => {
  const byDir = new Map<string, string[]>();
  for (const path of paths) byDir.set(dirname(path), [...(byDir.get(dirname(path)) ?? []), path]);
  const watchers: FSWatcher[] = [];
  const timers = new Set<NodeJS.Timeout>();
  for (const [dir, files] of byDir) {
    let timer: NodeJS.Timeout | undefined;
    const fire = (): void => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timers.delete(timer as NodeJS.Timeout);
        timer = undefined;
        for (const file of files) onChange(file);
      }, DEBOUNCE_MS);
      timers.add(timer);
    };
    try {
      watchers.push(watch(dir, { persistent: false }, fire));
    } catch {
      // a missing directory cannot be watched; reload() still works and start-up reported the error
    }
  }
  return () => {
    for (const w of watchers) w.close();
    for (const t of timers) clearTimeout(t);
  };
};
