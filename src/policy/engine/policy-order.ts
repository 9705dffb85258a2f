/**
 * The one deterministic order of policies: by id, compared as plain strings (UTF-16
 * code units, locale-free), so "first matching" means the same on every machine.
 */
import type { Policy } from '../model.js';
import { CompileError } from './compile-error.js';

export function sortPolicies(policies: readonly Policy[]): readonly Policy[] {
  const sorted = [...policies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < sorted.length; i += 1) {
    if (sorted[i]!.id === sorted[i - 1]!.id) {
      throw new CompileError('ERR_COMPILE_DUPLICATE_ID', sorted[i]!.id, 'id', 'two policies have this id');
    }
  }
  return sorted;
}
