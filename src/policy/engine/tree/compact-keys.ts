/**
 * A copy of a string-keyed map whose keys are fresh strings made one after the other. A
 * lookup with a request's string (never the same object as a key) compares contents, so
 * it reads the key: copied together, the keys of a large map share a few pages and stay
 * in cache, where the originals lie scattered across the policies' heap.
 */
export function compactKeys<V>(map: ReadonlyMap<string, V>): ReadonlyMap<string, V> {
  const compact = new Map<string, V>();
  for (const [key, value] of map) compact.set(freshCopy(key), value);
  return compact;
}

/** Code unit by code unit, so any string (a lone surrogate too) comes back equal. */
export function freshCopy(text: string): string {
  return text.split('').join('');
}
