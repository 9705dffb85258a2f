/**
 * Which files a list of policy paths means: a file as named; a directory's `*.yaml`,
 * `*.yml` and `*.json`, recursively, in code-point order so every load sees one order.
 * Hidden entries are skipped, which also skips the `..data` and `..<timestamp>` entries of
 * a Kubernetes ConfigMap volume (its visible names are symlinks into them); so is kustomize's
 * own `kustomization.yaml`, which a policy folder holds to be deployed as a ConfigMap.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PolicyError } from './policy-error.js';

const POLICY_FILE = /\.(ya?ml|json)$/i;
const KUSTOMIZATION_FILE = /^kustomization\.ya?ml$/;

export interface PolicyFiles {
  readonly files: readonly string[];
  readonly errors: readonly PolicyError[];
  readonly warnings: readonly PolicyError[];
}

export async function findPolicyFiles(paths: readonly string[]): Promise<PolicyFiles> {
  const out: Mutable = { files: [], errors: [], warnings: [] };
  const seen = new Set<string>();
  for (const path of paths) {
    try {
      await addPath(path, seen, out);
    } catch (e) {
      out.errors.push(fileError('read_failed', path, `cannot read: ${(e as Error).message}`));
    }
  }
  return out;
}

interface Mutable {
  files: string[];
  errors: PolicyError[];
  warnings: PolicyError[];
}

async function addPath(path: string, seen: Set<string>, out: Mutable): Promise<void> {
  if (!(await stat(path)).isDirectory()) return add(path, seen, out.files);
  const repeated = seen.has(await realpath(path));
  const before = out.files.length;
  await walk(path, seen, out.files);
  if (!repeated && out.files.length === before) {
    out.warnings.push(fileError('no_policy_files', path, 'no *.yaml, *.yml or *.json policy file in this directory'));
  }
}

async function walk(dir: string, seen: Set<string>, files: string[]): Promise<void> {
  // Real paths guard against symlink cycles and a file reached twice.
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort(byCodePoint);
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined); // a dangling symlink is not a policy
    if (info?.isDirectory()) await walk(path, seen, files);
    else if (info?.isFile() && POLICY_FILE.test(name) && !KUSTOMIZATION_FILE.test(name)) await add(path, seen, files);
  }
}

async function add(path: string, seen: Set<string>, files: string[]): Promise<void> {
  const real = await realpath(path);
  if (seen.has(real)) return;
  seen.add(real);
  files.push(path);
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function fileError(code: PolicyError['code'], file: string, message: string): PolicyError {
  return { code, file, line: 0, column: 0, field: '', message };
}
