/**
 * Istio's string match: exact, prefix `abc*`, suffix `*abc`, or presence `*`. A `*` anywhere
 * else is not a wildcard in Istio, so it is refused here rather than matched literally.
 */

/** Why the text is not a valid string match, or undefined when it is. */
export function stringMatchProblem(text: string): string | undefined {
  if (text === '*') return undefined;
  const stars = text.split('*').length - 1;
  if (stars === 0) return undefined;
  if (stars > 1) return `"${text}" has more than one "*": only one, at the start or the end, is allowed`;
  if (text.startsWith('*') || text.endsWith('*')) return undefined;
  return `"${text}" has a "*" in the middle: only a prefix (abc*), suffix (*abc) or "*" alone is allowed`;
}

export function isPattern(text: string): boolean {
  return text.includes('*');
}
