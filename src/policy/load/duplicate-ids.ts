/** Policy ids are unique in a snapshot: the second policy with an id is the error. */
import type { Policy } from '../model.js';
import type { PolicyError } from './policy-error.js';
import type { Position } from '../../lib/index.js';

export interface LocatedPolicy {
  readonly policy: Policy;
  /** Where `metadata.name` is written, to point at it. */
  readonly name: Position;
}

export function duplicateIdErrors(located: readonly LocatedPolicy[]): PolicyError[] {
  const first = new Map<string, LocatedPolicy>();
  const errors: PolicyError[] = [];
  for (const entry of located) {
    const earlier = first.get(entry.policy.id);
    if (earlier === undefined) {
      first.set(entry.policy.id, entry);
      continue;
    }
    const where = `${earlier.policy.origin.file}:${earlier.name.line}:${earlier.name.column}`;
    errors.push({
      code: 'duplicate_policy_id',
      file: entry.policy.origin.file,
      ...entry.name,
      field: 'metadata.name',
      message: `duplicate policy id "${entry.policy.id}", first defined at ${where}`,
    });
  }
  return errors;
}
