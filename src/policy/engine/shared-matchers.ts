/**
 * Matchers shared across one compile: identical value lists (the same methods, paths,
 * header values, principals) compile once to one matcher object. Matchers are pure, so
 * sharing changes no outcome; it cuts compile time and heap, and keeps the matchers that
 * many rules use hot in the CPU cache. One instance per compile: nothing outlives it but
 * the matchers the tree holds.
 */
import { BodyPaths } from './body/body-paths.js';
import { at, type CompileSite } from './compile-site.js';
import type { ConditionKey } from './matchers/condition-key.js';
import { and, flattenAnd, type Matcher } from './matchers/matcher.js';
import { normalizePrincipalPattern } from './matchers/principal-match.js';

export class SharedMatchers {
  readonly #byKind = new Map<unknown, Map<string, unknown>>();
  readonly #principals = new Map<string, string>();
  readonly #strings = new Map<string, string>();
  readonly #conditionKeys = new Map<string, ConditionKey>();
  /** ANDs by their parts, a trie keyed by part identity (no key strings to build). */
  readonly #ands: AndNode = { next: new Map(), and: undefined };

  /** `bodyPaths`: the body fields the compile reads, gathered for the tree's BodyReader. */
  constructor(readonly bodyPaths: BodyPaths = new BodyPaths()) {}

  /**
   * `make(values, at(site, field), kind)` once per (kind, values); the field's site is
   * built only then (most fields repeat), and a failing `make` is not remembered.
   */
  field<K, T>(kind: K, values: readonly string[], site: CompileSite, field: string, make: (values: readonly string[], site: CompileSite, kind: K) => T): T {
    let byValues = this.#byKind.get(kind);
    if (byValues === undefined) this.#byKind.set(kind, (byValues = new Map()));
    const key = valuesKey(values);
    let found = byValues.get(key) as T | undefined;
    if (found === undefined) byValues.set(key, (found = make(values, at(site, field), kind)));
    return found;
  }

  /**
   * AND of the parts (nested ANDs flattened), one object per distinct list of parts: the
   * parts are mostly shared already, so many rules end up with one conjunction.
   */
  and(parts: readonly Matcher[]): Matcher {
    const flat = flattenAnd(parts);
    if (flat.length < 2) return and(flat);
    let node = this.#ands;
    for (let i = 0; i < flat.length; i += 1) {
      let next = node.next.get(flat[i]!);
      if (next === undefined) node.next.set(flat[i]!, (next = { next: new Map(), and: undefined }));
      node = next;
    }
    return (node.and ??= and(flat));
  }

  /** A condition key parsed once per distinct text (`parse` throws for a bad one, each time). */
  conditionKey(text: string, parse: () => ConditionKey): ConditionKey {
    let key = this.#conditionKeys.get(text);
    if (key === undefined) this.#conditionKeys.set(text, (key = parse()));
    return key;
  }

  /** normalizePrincipalPattern, parsed once per distinct pattern. */
  principal(pattern: string): string {
    let full = this.#principals.get(pattern);
    if (full === undefined) this.#principals.set(pattern, (full = this.intern(normalizePrincipalPattern(pattern))));
    return full;
  }

  /** One string object per distinct text, so equal keys compare by identity first. */
  intern(text: string): string {
    const found = this.#strings.get(text);
    if (found !== undefined) return found;
    this.#strings.set(text, text);
    return text;
  }
}

interface AndNode {
  readonly next: Map<Matcher, AndNode>;
  and: Matcher | undefined;
}

/**
 * One string per list of values, distinct for distinct lists: a lone value is itself
 * (unless it starts with one of the two marks below); a list whose values hold no NUL is
 * NUL-joined after a NUL mark; any other list is its JSON after a \u0001 mark.
 */
function valuesKey(values: readonly string[]): string {
  if (values.length === 1 && values[0]!.charCodeAt(0) > 1) return values[0]!;
  for (let i = 0; i < values.length; i += 1) if (values[i]!.includes('\u0000')) return `\u0001${JSON.stringify(values)}`;
  return `\u0000${values.join('\u0000')}`;
}
