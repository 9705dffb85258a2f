/**
 * Istio string matching: exact, prefix (`abc*`), suffix (`*abc`), presence (`*`).
 * A `*` anywhere else is refused rather than guessed at.
 */
import { PatternError } from '../compile-error.js';

/** Anything that matches one attribute value: a string set, a path set. */
export interface ValueMatcher {
  matches(value: string): boolean;
}

export type StringMatchKind = 'exact' | 'prefix' | 'suffix' | 'presence';

export interface StringMatcher {
  readonly kind: StringMatchKind;
  /** The pattern's literal part (the text around the `*`). */
  readonly literal: string;
  matches(value: string): boolean;
}

class ExactMatch implements StringMatcher {
  readonly kind = 'exact';
  constructor(readonly literal: string) {}
  matches(value: string): boolean {
    return value === this.literal;
  }
}

class PrefixMatch implements StringMatcher {
  readonly kind = 'prefix';
  constructor(readonly literal: string) {}
  matches(value: string): boolean {
    return value.startsWith(this.literal);
  }
}

class SuffixMatch implements StringMatcher {
  readonly kind = 'suffix';
  constructor(readonly literal: string) {}
  matches(value: string): boolean {
    return value.endsWith(this.literal);
  }
}

class PresenceMatch implements StringMatcher {
  readonly kind = 'presence';
  readonly literal = '';
  // Presence is decided by the caller having a value at all: any present value matches.
  matches(): boolean {
    return true;
  }
}

const PRESENCE: StringMatcher = Object.freeze(new PresenceMatch());

export function compileStringMatch(pattern: string): StringMatcher {
  if (pattern === '*') return PRESENCE;
  const star = pattern.indexOf('*');
  if (star === -1) return Object.freeze(new ExactMatch(pattern));
  if (star !== pattern.lastIndexOf('*')) {
    throw new PatternError('ERR_COMPILE_PATTERN', `"${pattern}": only one "*" is allowed`);
  }
  if (star === pattern.length - 1) return Object.freeze(new PrefixMatch(pattern.slice(0, -1)));
  if (star === 0) return Object.freeze(new SuffixMatch(pattern.slice(1)));
  throw new PatternError('ERR_COMPILE_PATTERN', `"${pattern}": "*" must be first or last`);
}

/** A list of patterns OR-ed; exact ones go through a Set so long lists stay cheap. */
export class StringSetMatcher implements ValueMatcher {
  // A few exact values compare faster, and take far less memory, as an array than a Set.
  readonly #exact: ReadonlySet<string> | readonly string[];
  readonly #others: readonly StringMatcher[];

  constructor(matchers: readonly StringMatcher[]) {
    const exact = matchers.filter((m) => m.kind === 'exact').map((m) => m.literal);
    this.#exact = exact.length > SMALL ? new Set(exact) : Object.freeze(exact);
    this.#others = Object.freeze(matchers.filter((m) => m.kind !== 'exact'));
    Object.freeze(this);
  }

  matches(value: string): boolean {
    if (hasExact(this.#exact, value)) return true;
    const others = this.#others;
    for (let i = 0; i < others.length; i += 1) if (others[i]!.matches(value)) return true;
    return false;
  }
}

export function compileStringSet(patterns: readonly string[]): StringSetMatcher {
  return new StringSetMatcher(patterns.map(compileStringMatch));
}

const SMALL = 8;

function hasExact(exact: ReadonlySet<string> | readonly string[], value: string): boolean {
  return Array.isArray(exact) ? exact.includes(value) : (exact as ReadonlySet<string>).has(value);
}
