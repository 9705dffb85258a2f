/**
 * A `request.body.json[...]` condition checked the obvious way: the body read afresh for this
 * one path, then the rule spelled out. An unseen field holds for DENY and AUDIT and fails for
 * ALLOW; a list passes an ALLOW when every element passes, a DENY or AUDIT when one does.
 * A failure never carries the body's value: explain output is shared, and bodies hold secrets.
 */
import type { Condition, PolicyAction } from '../../model.js';
import { bodyPathsOf } from '../body/body-paths.js';
import { bodyLimits } from '../body/body-reader.js';
import { bodyValue } from '../body/body-value.js';
import { readBody, type BodyRead } from '../body/read-body.js';
import type { Facts } from './facts.js';
import { leafMatches } from './leaf.js';
import type { ClauseFailure } from './rule-check.js';

export function checkBodyCondition(
  condition: Condition,
  path: readonly string[],
  facts: Facts,
  action: PolicyAction,
  at: string,
): ClauseFailure | undefined {
  const paths = bodyPathsOf([path]);
  const read = readBody(facts.request, bodyLimits(facts.maxBodyBytes), paths);
  const value = bodyValue(read, paths.add(path));
  const denying = action !== 'ALLOW';
  if (value === undefined) return denying ? undefined : failure(condition, at, !has(condition.values), whyUnseen(read, path));
  const texts = typeof value === 'string' ? [value] : value;
  const failing = texts.filter((text) => failedList(condition, text) !== undefined);
  const holds = denying ? failing.length < texts.length : failing.length === 0;
  if (holds) return undefined;
  return failure(condition, at, failedList(condition, failing[0]!) === 'notValues', 'body value not shown');
}

/** Which list a text fails: `values` (it matches none) before `notValues` (it matches one). */
function failedList(condition: Condition, text: string): 'values' | 'notValues' | undefined {
  const hit = (patterns: readonly string[]) => patterns.some((pattern) => leafMatches('string', pattern, text));
  if (has(condition.values) && !hit(condition.values)) return 'values';
  if (has(condition.notValues) && hit(condition.notValues)) return 'notValues';
  return undefined;
}

function failure(condition: Condition, at: string, negated: boolean, withheld: string): ClauseFailure {
  const expected = (negated ? condition.notValues : condition.values) ?? [];
  return { clause: `${at}.${negated ? 'notValues' : 'values'}[${condition.key}]`, actual: undefined, expected, negated, withheld };
}

/** For people: the body was read for this path alone, so any repeat is on it. */
function whyUnseen(read: BodyRead, path: readonly string[]): string {
  if (typeof read === 'string') return `body not seen: ${read}`;
  if (read.repeated !== undefined) return 'body field under a repeated member name';
  let value = read.root;
  for (const name of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, name)) return 'body field absent';
    value = (value as Record<string, unknown>)[name];
  }
  return 'body field not a string, number, boolean or list of them';
}

function has(list: readonly string[] | undefined): list is readonly string[] {
  return list !== undefined && list.length > 0;
}
