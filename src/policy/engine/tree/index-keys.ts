/**
 * The keys a rule is filed under in a RuleIndex: principals, worked out once per rule at
 * compile time, and paths and methods, for the few rules that end up in a trie. `undefined`
 * means the rule names no indexable value for that attribute: it is filed under "any".
 */
import type { Rule } from '../../model.js';
import { isSet } from '../compile-site.js';
import type { SharedMatchers } from '../shared-matchers.js';
import { isTrieable } from './path-trie.js';

export function pathKeys(rule: Rule): readonly string[] | undefined {
  return operationKeys(rule, (o) => o.paths, isTrieable);
}

export function methodKeys(rule: Rule): readonly string[] | undefined {
  return operationKeys(rule, (o) => o.methods, (m) => !m.includes('*'));
}

/** The exact principals the rule needs, when every `from` entry names only exact ones. */
export function principalKeys(rule: Rule, shared: SharedMatchers): readonly string[] | undefined {
  if (!isSet(rule.from)) return undefined;
  // A handful of keys: an array with includes beats a Set, and allocates one object.
  const keys: string[] = [];
  for (let i = 0; i < rule.from.length; i += 1) {
    const patterns = rule.from[i]!.principals;
    if (!isSet(patterns)) return undefined;
    for (let j = 0; j < patterns.length; j += 1) {
      const full = shared.principal(patterns[j]!);
      if (full.includes('*')) return undefined;
      if (!keys.includes(full)) keys.push(full);
    }
  }
  return keys;
}

/** The union of one field over every `to` entry, when each entry sets it with indexable values. */
function operationKeys(
  rule: Rule,
  field: (operation: NonNullable<Rule['to']>[number]) => readonly string[] | undefined,
  indexable: (value: string) => boolean,
): readonly string[] | undefined {
  if (!isSet(rule.to)) return undefined;
  const keys = new Set<string>();
  for (const operation of rule.to) {
    const values = field(operation);
    if (!isSet(values) || !values.every(indexable)) return undefined;
    for (const value of values) keys.add(value);
  }
  return [...keys];
}
