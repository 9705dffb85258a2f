import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchPaths } from '../../src/lib/watch-paths.js';

const POLL = { timeout: 5_000, interval: 20 };

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'meshwarden-watch-'));
}

describe('the one file watcher', () => {
  it('sees a watched file replaced by a rename, and again after the watch survived the first', async () => {
    const root = dir();
    const file = join(root, 'bundle.json');
    writeFileSync(file, '1');
    let told = 0;
    const watch = watchPaths([file], () => told++);
    try {
      writeFileSync(join(root, 'unrelated.txt'), 'x');
      writeFileSync(join(root, 'bundle.json.tmp'), '2');
      renameSync(join(root, 'bundle.json.tmp'), file);
      await expect.poll(() => told, POLL).toBeGreaterThan(0);
      const afterRename = told;
      writeFileSync(join(root, 'x.tmp'), '3');
      renameSync(join(root, 'x.tmp'), file);
      await expect.poll(() => told, POLL).toBeGreaterThan(afterRename);
    } finally {
      watch.close();
    }
  });

  it('tells a burst of changes once when debounced, and nothing after close', async () => {
    const root = dir();
    let told = 0;
    const watch = watchPaths([root], () => told++, { debounceMs: 100 });
    for (let i = 0; i < 20; i += 1) writeFileSync(join(root, `p${i}.yaml`), String(i));
    await expect.poll(() => told, POLL).toBe(1);
    watch.close();
    writeFileSync(join(root, 'late.yaml'), 'x');
    // a live watch with the same debounce sees the next change: once it has, the closed one would have too
    let witnessed = 0;
    const witness = watchPaths([root], () => witnessed++, { debounceMs: 100 });
    writeFileSync(join(root, 'later.yaml'), 'y');
    await expect.poll(() => witnessed, POLL).toBe(1);
    witness.close();
    expect(told).toBe(1);
  });
});
