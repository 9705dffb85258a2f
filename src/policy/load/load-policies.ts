/**
 * Loads every policy of a set of files and directories, reporting all problems of all
 * files at once; the caller builds a snapshot only when `errors` is empty.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Policy } from '../model.js';
import { duplicateIdErrors, type LocatedPolicy } from './duplicate-ids.js';
import { fileError, findPolicyFiles } from './policy-files.js';
import { assertLoadOptions, parseFileText, type LoadOptions } from './parse-policy-text.js';
import type { PolicyError } from './policy-error.js';
import { deepFreeze } from './deep-freeze.js';

export interface LoadedFile {
  readonly path: string;
  /** Hex SHA-256 of the file's bytes: identifies what a snapshot was built from. */
  readonly sha256: string;
}

export interface LoadResult {
  readonly policies: readonly Policy[];
  readonly files: readonly LoadedFile[];
  readonly errors: readonly PolicyError[];
  readonly warnings: readonly PolicyError[];
}

export async function loadPolicies(paths: readonly string[], options: LoadOptions): Promise<LoadResult> {
  assertLoadOptions(options);
  const found = await findPolicyFiles(paths);
  const located: LocatedPolicy[] = [];
  const files: LoadedFile[] = [];
  const errors = [...found.errors];
  const warnings = [...found.warnings];
  for (const path of found.files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      errors.push(fileError('read_failed', path, `cannot read: ${(e as Error).message}`));
      continue;
    }
    files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex') });
    const parsed = parseFileText(bytes.toString('utf8'), path, options);
    located.push(...parsed.located);
    errors.push(...parsed.errors);
    warnings.push(...parsed.warnings);
  }
  // Duplicates come last so that each file's own errors stay together, in reading order.
  errors.push(...duplicateIdErrors(located));
  return deepFreeze({ policies: located.map((l) => l.policy), files, errors, warnings });
}
