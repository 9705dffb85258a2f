/**
 * A body field as conditions compare it: a string is itself, a number or boolean its text
 * (10 → "10", 1.5 → "1.5", true → "true"), a non-empty list of those their texts. Anything
 * else is not there: an object, null, an empty list or one holding an object, an integer past
 * 2^53 (its text would not be the number sent), and any field under a repeated member name.
 */
import type { BodyPath } from './body-paths.js';
import type { BodyRead } from './read-body.js';

export type BodyValue = string | readonly string[] | undefined;

export function bodyValue(read: BodyRead, path: BodyPath): BodyValue {
  if (typeof read === 'string') return undefined;
  const repeated = read.repeated;
  if (repeated !== undefined) {
    for (let i = 0; i < path.nodes.length; i += 1) if (repeated[path.nodes[i]!] === 1) return undefined;
  }
  let value = read.root;
  const segments = path.segments;
  for (let i = 0; i < segments.length; i += 1) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, segments[i]!)) return undefined;
    value = (value as Record<string, unknown>)[segments[i]!];
  }
  return Array.isArray(value) ? listText(value) : scalarText(value);
}

function listText(list: readonly unknown[]): readonly string[] | undefined {
  if (list.length === 0) return undefined;
  const texts: string[] = [];
  for (let i = 0; i < list.length; i += 1) {
    const text = scalarText(list[i]);
    if (text === undefined) return undefined;
    texts.push(text);
  }
  return texts;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'number') return undefined;
  return Number.isInteger(value) && !Number.isSafeInteger(value) ? undefined : String(value);
}
