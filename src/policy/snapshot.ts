/**
 * The compiled, immutable set of policies in service. A new snapshot is built off the
 * request path and swapped in whole; one that fails to compile never replaces the current.
 */
import { createHash } from 'node:crypto';
import type { DecisionTree } from './engine/index.js';
import type { EngineOptions, Policy } from './model.js';

export interface SnapshotFile {
  readonly path: string;
  readonly sha256: string;
}

export interface PolicySnapshot {
  readonly generation: number;
  readonly tree: DecisionTree;
  readonly policies: readonly Policy[];
  readonly files: readonly SnapshotFile[];
  /** Hash over the source files' hashes: equal hashes mean equal policy text. */
  readonly hash: string;
  readonly policyCount: number;
  readonly ruleCount: number;
  /** Wall-clock time of the load, epoch milliseconds. */
  readonly loadedAt: number;
  readonly options: EngineOptions;
}

export function snapshotHash(files: readonly SnapshotFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.path}\0${file.sha256}\n`);
  return hash.digest('hex').slice(0, 16);
}
