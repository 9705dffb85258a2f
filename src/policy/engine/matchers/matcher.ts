/**
 * Envoy-RBAC-style matchers: one pure `matches(ctx)`, composed with And / Or / Not.
 * The compiler builds a tree of these once per rule; evaluation only calls `matches`.
 */
import type { MatchContext } from './match-context.js';

export interface Matcher {
  matches(ctx: MatchContext): boolean;
}

class Always implements Matcher {
  matches(): boolean {
    return true;
  }
}

export const ALWAYS: Matcher = Object.freeze(new Always());

// Indexed loops, not for-of: an iterator the optimizer fails to elide allocates per call.
class And implements Matcher {
  constructor(readonly all: readonly Matcher[]) {}
  matches(ctx: MatchContext): boolean {
    const all = this.all;
    for (let i = 0; i < all.length; i += 1) if (!all[i]!.matches(ctx)) return false;
    return true;
  }
}

class Or implements Matcher {
  constructor(readonly any: readonly Matcher[]) {}
  matches(ctx: MatchContext): boolean {
    const any = this.any;
    for (let i = 0; i < any.length; i += 1) if (any[i]!.matches(ctx)) return true;
    return false;
  }
}

class Not implements Matcher {
  constructor(readonly inner: Matcher) {}
  matches(ctx: MatchContext): boolean {
    return !this.inner.matches(ctx);
  }
}

/** AND of the parts; no parts matches everything (a rule or source with no fields). */
export function and(parts: readonly Matcher[]): Matcher {
  if (parts.length === 0) return ALWAYS;
  if (parts.length === 1) return parts[0]!;
  return Object.freeze(new And(Object.freeze([...parts])));
}

/** OR of the parts; callers never pass none (an empty `from` is treated as absent). */
export function or(parts: readonly Matcher[]): Matcher {
  if (parts.length === 1) return parts[0]!;
  return Object.freeze(new Or(Object.freeze([...parts])));
}

export function not(inner: Matcher): Matcher {
  return Object.freeze(new Not(inner));
}

/**
 * The conjuncts of `parts`, nested ANDs spliced in and ALWAYS dropped, in order: AND is
 * associative and matchers are pure, so `and(flattenAnd(parts))` matches as `and(parts)`.
 */
export function flattenAnd(parts: readonly Matcher[]): Matcher[] {
  const flat: Matcher[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i]!;
    if (part instanceof And) flat.push(...part.all);
    else if (part !== ALWAYS) flat.push(part);
  }
  return flat;
}
