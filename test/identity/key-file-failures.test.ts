/**
 * A trust bundle that is missing, unreadable or not a bundle is loud, not a flood: the resolver
 * lists it with its path and cause, tells each new failure once, re-reads a file only when it
 * changed, and retries it at a slow interval, so a watcher that never stops firing (or a file
 * system where reading a file raises an event) cannot make it spin.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIdentityResolver, type IdentityResolver, type ReloadErrorEvent, type WatchFn } from '../../src/identity/index.js';

const EMPTY_BUNDLE = JSON.stringify({ keys: [] });

interface Setup {
  readonly dir: string;
  readonly path: string;
  readonly resolver: IdentityResolver;
  readonly told: ReloadErrorEvent[];
}

async function setup(watch: boolean | WatchFn, bundleDir = mkdtempSync(join(tmpdir(), 'meshwarden-keyfile-'))): Promise<Setup> {
  const path = join(bundleDir, 'prod.example.json');
  const resolver = await createIdentityResolver({ trustDomains: { 'prod.example': { bundle: path } } }, { baseDir: bundleDir, watch });
  const told: ReloadErrorEvent[] = [];
  resolver.on('error', (event) => told.push(event));
  return { dir: bundleDir, path, resolver, told };
}

/** A watcher that reports a change of every file every millisecond or two, for as long as it is open. */
const restlessWatch: WatchFn = (paths, onChange) => {
  const timer = setInterval(() => paths.forEach(onChange), 1);
  return () => clearInterval(timer);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a key file that does not load', () => {
  it('is listed with its path and the cause the OS gave, and makes the resolver not ready', async () => {
    const { path, resolver } = await setup(false);
    expect(resolver.ready).toBe(false);
    expect(resolver.failures).toEqual([
      expect.objectContaining({
        source: 'trust-domain',
        name: 'prod.example',
        path,
        code: 'ERR_BUNDLE_READ',
        keptLastGood: false,
        reason: `trust bundle prod.example: ENOENT: no such file or directory, open '${path}'`,
      }),
    ]);
    resolver.close();
  });

  it('says what is wrong with a file that is not a bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshwarden-keyfile-'));
    writeFileSync(join(dir, 'prod.example.json'), '<html>');
    const { path, resolver } = await setup(false, dir);
    expect(resolver.failures[0]).toMatchObject({ code: 'ERR_BUNDLE_JSON', reason: expect.stringMatching(new RegExp(`^trust bundle prod.example: ${path}: `)) });
    resolver.close();
  });

  it('is read and told once while a watcher fires without end', async () => {
    const { resolver, told } = await setup(restlessWatch);
    await sleep(500);
    expect(told).toEqual([]);
    expect(resolver.stats.keyFiles.failures['trust-domain']['ERR_BUNDLE_READ']).toBe(1);
    resolver.close();
  });

  it('is told again when its cause changes, and when a reload is asked for', async () => {
    const { path, resolver, told } = await setup(restlessWatch);
    writeFileSync(path, '{"keys": [ trunc');
    await expect.poll(() => told.map((event) => event.code)).toEqual(['ERR_BUNDLE_JSON']);
    await resolver.reload(); // SIGHUP: the operator asked, the same failure is told again
    expect(told.map((event) => event.code)).toEqual(['ERR_BUNDLE_JSON', 'ERR_BUNDLE_JSON']);
    resolver.close();
  });

  it('is loaded once it is written, and is no longer listed', async () => {
    const { path, resolver, told } = await setup(true);
    writeFileSync(path, EMPTY_BUNDLE);
    await expect.poll(() => resolver.ready, { timeout: 5_000 }).toBe(true);
    expect(resolver.failures).toEqual([]);
    expect(told).toEqual([]);
    expect(resolver.stats.keyFiles.files['trust-domain']).toEqual({ loaded: 1, stale: 0, unavailable: 0 });
    resolver.close();
  });

  it('is retried at a slow interval when its directory did not exist to be watched', async () => {
    const root = mkdtempSync(join(tmpdir(), 'meshwarden-keyfile-'));
    const { path, resolver } = await setup(true, join(root, 'bundles'));
    mkdirSync(join(root, 'bundles'));
    writeFileSync(path, EMPTY_BUNDLE);
    await expect.poll(() => resolver.ready, { timeout: 5_000, interval: 100 }).toBe(true);
    resolver.close();
  });

  it('counts a file that failed after loading as stale, serving its last good keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshwarden-keyfile-'));
    writeFileSync(join(dir, 'prod.example.json'), EMPTY_BUNDLE);
    const { path, resolver } = await setup(false, dir);
    writeFileSync(path, 'not json');
    await resolver.reload();
    expect(resolver.ready).toBe(true);
    expect(resolver.failures).toEqual([expect.objectContaining({ keptLastGood: true, code: 'ERR_BUNDLE_JSON' })]);
    expect(resolver.stats.keyFiles.files['trust-domain']).toEqual({ loaded: 0, stale: 1, unavailable: 0 });
    resolver.close();
  });
});
