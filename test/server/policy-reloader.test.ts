/**
 * PolicyReloader: generations, the last good snapshot kept through bad files, serialized
 * reloads where an older load never wins, and the file watch with its debounce, on real
 * files in a temp dir (and a held loader where the order of loads must be forced).
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicies, type LoadResult } from '../../src/policy/load/index.js';
import { PolicyReloader, type PolicyReloaderOptions, type ReloadResult } from '../../src/server/policy-reloader.js';
import { tempDir } from '../helpers/server-process.js';

const ENGINE = { defaultAction: 'DENY', rootNamespace: 'istio-system' } as const;
const POLL = { timeout: 15_000, interval: 20 };

const policy = (name: string, action: 'ALLOW' | 'DENY' = 'ALLOW') => `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name} }
spec:
  action: ${action}
  rules: [{ to: [{ operation: { paths: ["/${name}"] } }] }]
`;

/** Valid YAML, invalid policy: the error is at line 5, column 3 (`rulez`). */
const MISSPELT = `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: misspelt }
spec:
  rulez: []
`;

const reloaders: PolicyReloader[] = [];
afterEach(() => {
  for (const reloader of reloaders.splice(0)) reloader.close();
});

function reloaderOf(paths: readonly string[], options: Partial<PolicyReloaderOptions> = {}): PolicyReloader {
  const reloader = new PolicyReloader({ paths, engine: ENGINE, debounceMs: 25, ...options });
  reloaders.push(reloader);
  return reloader;
}

/** A temp dir holding `policy.yaml` with `text`. */
function policyDir(text: string): { dir: string; file: string } {
  const dir = tempDir('meshwarden-reloader-');
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

const names = (reloader: PolicyReloader) => reloader.current?.policies.map((p) => p.id ?? p.name);

function ok(result: ReloadResult): Extract<ReloadResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected a successful reload, got ${result.errors.join('; ')}`);
  return result;
}

describe('reload on demand', () => {
  it('has no snapshot before the first load, then generation 1, 2, 3 … one per changed load', async () => {
    const { file } = policyDir(policy('a'));
    const reloader = reloaderOf([file]);
    expect(reloader.current).toBeUndefined();
    expect(ok(await reloader.reload()).snapshot.generation).toBe(1);
    writeFileSync(file, policy('b'));
    expect(ok(await reloader.reload()).snapshot.generation).toBe(2);
    writeFileSync(file, policy('c'));
    expect(ok(await reloader.reload()).snapshot.generation).toBe(3);
    expect(reloader.current).toMatchObject({ generation: 3, policyCount: 1, ruleCount: 1, files: [{ path: file }] });
  });

  it('keeps the snapshot and its generation when a reload finds the same sources, so cached decisions stay valid', async () => {
    const { file } = policyDir(policy('a'));
    const reloader = reloaderOf([file]);
    const first = ok(await reloader.reload()).snapshot;
    const again = ok(await reloader.reload());
    expect(again.unchanged).toBe(true);
    expect(again.snapshot).toBe(first);
    expect(reloader.current).toBe(first);
  });

  it('changes the hash with the content, and only with the content', async () => {
    const { file } = policyDir(policy('a'));
    const reloader = reloaderOf([file]);
    const first = ok(await reloader.reload()).snapshot.hash;
    expect(ok(await reloader.reload()).snapshot.hash).toBe(first);
    writeFileSync(file, policy('b'));
    expect(ok(await reloader.reload()).snapshot.hash).not.toBe(first);
  });

  it('keeps the last good snapshot when a file breaks, and reports file:line:col', async () => {
    const { file } = policyDir(policy('good'));
    const reports: ReloadResult[] = [];
    const reloader = reloaderOf([file], { onReload: (r) => reports.push(r) });
    const good = ok(await reloader.reload()).snapshot;
    writeFileSync(file, MISSPELT);
    const bad = await reloader.reload();
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors[0]).toMatch(new RegExp(`^${file}:5:3: unknown field "rulez"`));
    expect(reloader.current).toBe(good);
    writeFileSync(file, 'spec: [unclosed\n');
    const unparsable = await reloader.reload();
    expect(!unparsable.ok && unparsable.errors[0]).toMatch(new RegExp(`^${file}:\\d+:\\d+: `));
    expect(reloader.current).toBe(good);
    writeFileSync(file, policy('fixed'));
    expect(ok(await reloader.reload()).snapshot.generation).toBe(good.generation + 1);
    expect(reports.map((r) => r.ok)).toEqual([true, false, false, true]);
  });

  it('treats a policy path that disappeared as a failed load, not an empty policy set', async () => {
    const { dir, file } = policyDir(policy('a'));
    const reloader = reloaderOf([file]);
    const good = ok(await reloader.reload()).snapshot;
    rmSync(dir, { recursive: true });
    expect((await reloader.reload()).ok).toBe(false);
    expect(reloader.current).toBe(good);
  });

  it('refuses a file that held policies and is now empty, as a write caught half-way, and keeps the snapshot', async () => {
    const { dir, file } = policyDir(policy('guard', 'DENY'));
    writeFileSync(join(dir, 'allow.yaml'), policy('open'));
    const reloader = reloaderOf([dir]);
    const good = ok(await reloader.reload()).snapshot;
    writeFileSync(file, '');
    const result = await reloader.reload();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.join('\n')).toContain(`${file}: held policies and is now empty`);
    expect(reloader.current).toBe(good);
    rmSync(file);
    expect(ok(await reloader.reload()).snapshot.policies.map((p) => p.name)).toEqual(['open']);
  });

  it('keeps reloading after an onReload hook that throws', async () => {
    const { file } = policyDir(policy('a'));
    const reloader = reloaderOf([file], {
      onReload: () => {
        throw new Error('hook failed');
      },
    });
    expect(ok(await reloader.reload()).snapshot.generation).toBe(1);
    writeFileSync(file, policy('b'));
    expect(ok(await reloader.reload()).snapshot.generation).toBe(2);
  });
});

/** A loader whose loads wait until the test releases them, reading the files at release. */
class HeldLoader {
  readonly started: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly #releases: (() => void)[] = [];

  readonly load = async (paths: readonly string[], options: { rootNamespace: string }): Promise<LoadResult> => {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.started.push(paths.join(','));
    await new Promise<void>((resolve) => this.#releases.push(resolve));
    try {
      return await loadPolicies(paths, options);
    } finally {
      this.inFlight--;
    }
  };

  /** Releases the load waiting now (waits for one to start). */
  async releaseNext(): Promise<void> {
    await expect.poll(() => this.#releases.length, POLL).toBeGreaterThan(0);
    this.#releases.shift()!();
  }
}

describe('concurrent reload requests', () => {
  it('run one load at a time, and every caller gets the newest result', async () => {
    const { file } = policyDir(policy('v1'));
    const held = new HeldLoader();
    const reloader = reloaderOf([file], { load: held.load });
    const first = reloader.reload();
    await expect.poll(() => held.started.length, POLL).toBe(1);
    // the files change while the first load is in flight, and three more reloads are asked for
    writeFileSync(file, policy('v2'));
    const more = [reloader.reload(), reloader.reload(), reloader.reload()];
    await held.releaseNext();
    await held.releaseNext();
    const results = await Promise.all([first, ...more]);
    expect(held.maxInFlight).toBe(1);
    // the requests made during the first load are served by one more pass, not three
    expect(held.started).toHaveLength(2);
    for (const result of results) expect(ok(result).snapshot.policies[0]?.name).toBe('v2');
    // both passes read v2 (the held loader reads at release): the second swaps nothing in
    expect(reloader.current?.generation).toBe(1);
    expect(ok(await more[0]!).unchanged).toBe(true);
  });

  it('applies loads in request order: generations only rise and the last request\'s files win', async () => {
    const { file } = policyDir(policy('v1'));
    const held = new HeldLoader();
    const generations: number[] = [];
    const reloader = reloaderOf([file], { load: held.load, onReload: (r) => r.ok && generations.push(r.snapshot.generation) });
    const all: Promise<ReloadResult>[] = [];
    for (let version = 2; version <= 6; version++) {
      all.push(reloader.reload());
      await held.releaseNext();
      writeFileSync(file, policy(`v${version}`));
    }
    all.push(reloader.reload());
    await held.releaseNext();
    await Promise.all(all);
    expect(held.maxInFlight).toBe(1);
    expect(generations).toEqual([...generations].sort((a, b) => a - b));
    expect(reloader.current?.policies[0]?.name).toBe('v6');
  });
});

describe('watching the policy files', () => {
  it('picks up a change to a file in a watched directory, debounced into one reload', async () => {
    const { dir, file } = policyDir(policy('before'));
    const results: ReloadResult[] = [];
    const reloader = reloaderOf([dir], { debounceMs: 100, onReload: (r) => results.push(r) });
    await reloader.reload();
    reloader.watch();
    writeFileSync(file, policy('after'));
    await expect.poll(() => names(reloader), POLL).toEqual(['after']);
    expect(results).toHaveLength(2);
  });

  it('picks up a new file in a watched directory', async () => {
    const { dir } = policyDir(policy('one'));
    const reloader = reloaderOf([dir]);
    await reloader.reload();
    reloader.watch();
    writeFileSync(join(dir, 'two.yaml'), policy('two'));
    await expect.poll(() => names(reloader)?.sort(), POLL).toEqual(['one', 'two']);
  });

  it('converges on the last content after many rapid rewrites', async () => {
    const { dir, file } = policyDir(policy('v0'));
    const reloader = reloaderOf([dir], { debounceMs: 10 });
    await reloader.reload();
    reloader.watch();
    for (let version = 1; version <= 50; version++) writeFileSync(file, policy(`v${version}`));
    await expect.poll(() => names(reloader), POLL).toEqual(['v50']);
  });

  it('keeps following a watched file that is replaced by rename, as editors and config management do', async () => {
    const { dir, file } = policyDir(policy('v0'));
    const reloader = reloaderOf([file]);
    await reloader.reload();
    reloader.watch();
    for (let version = 1; version <= 3; version++) {
      writeFileSync(join(dir, 'next.tmp'), policy(`v${version}`));
      renameSync(join(dir, 'next.tmp'), file);
      await expect.poll(() => names(reloader), POLL).toEqual([`v${version}`]);
    }
  });

  it('keeps following a watched file that is rewritten in place', async () => {
    const { file } = policyDir(policy('v0'));
    const reloader = reloaderOf([file]);
    await reloader.reload();
    reloader.watch();
    for (let version = 1; version <= 3; version++) {
      writeFileSync(file, policy(`v${version}`));
      await expect.poll(() => names(reloader), POLL).toEqual([`v${version}`]);
    }
  });

  it('keeps following files replaced by rename in a watched directory and its subdirectories', async () => {
    const { dir, file } = policyDir(policy('v0'));
    const reloader = reloaderOf([dir]);
    await reloader.reload();
    reloader.watch();
    for (let version = 1; version <= 3; version++) {
      writeFileSync(join(dir, '.next.tmp'), policy(`v${version}`));
      renameSync(join(dir, '.next.tmp'), file);
      await expect.poll(() => names(reloader), POLL).toEqual([`v${version}`]);
    }
    // a subdirectory made after the watch started is watched too
    mkdirSync(join(dir, 'team'));
    writeFileSync(join(dir, 'team', 'extra.yaml'), policy('extra'));
    await expect.poll(() => names(reloader)?.sort(), POLL).toEqual(['extra', 'v3']);
    writeFileSync(join(dir, 'team', 'extra.yaml'), policy('extra2'));
    await expect.poll(() => names(reloader)?.sort(), POLL).toEqual(['extra2', 'v3']);
  });

  it('follows a Kubernetes ConfigMap volume update (the ..data symlink swapped)', async () => {
    const dir = tempDir('meshwarden-configmap-');
    const publish = (version: number) => {
      const data = `..${version}`;
      mkdirSync(join(dir, data));
      writeFileSync(join(dir, data, 'policy.yaml'), policy(`v${version}`));
      symlinkSync(data, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    publish(0);
    symlinkSync('..data/policy.yaml', join(dir, 'policy.yaml'));
    for (const paths of [[dir], [join(dir, 'policy.yaml')]]) {
      const reloader = reloaderOf(paths);
      await reloader.reload();
      reloader.watch();
    }
    for (let version = 1; version <= 3; version++) {
      publish(version);
      await expect.poll(() => reloaders.map(names), POLL).toEqual([[`v${version}`], [`v${version}`]]);
    }
  });

  it('reloads a file that never goes quiet at least every ten debounce periods', async () => {
    const { dir, file } = policyDir(policy('v0'));
    const reloader = reloaderOf([dir], { debounceMs: 50 });
    await reloader.reload();
    reloader.watch();
    let version = 0;
    const writer = setInterval(() => writeFileSync(file, policy(`v${++version}`)), 10);
    try {
      await expect.poll(() => reloader.current?.generation, POLL).toBeGreaterThan(1);
    } finally {
      clearInterval(writer);
    }
  });

  it('stops reloading once closed', async () => {
    const { dir, file } = policyDir(policy('v0'));
    const results: ReloadResult[] = [];
    const reloader = reloaderOf([dir], { debounceMs: 10, onReload: (r) => results.push(r) });
    await reloader.reload();
    reloader.watch();
    // a witness watches the same directory the same way: once it has seen the change, a
    // reloader still watching would have too
    const witness = reloaderOf([dir], { debounceMs: 10 });
    await witness.reload();
    witness.watch();
    reloader.close();
    writeFileSync(file, policy('v1'));
    try {
      await expect.poll(() => names(witness), POLL).toEqual(['v1']);
    } finally {
      witness.close();
    }
    expect(results).toHaveLength(1);
    expect(names(reloader)).toEqual(['v0']);
  });
});
