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

class And implements Matcher {
  constructor(readonly all: readonly Matcher[]) {}
  matches(ctx: MatchContext): boolean {
    for (const m of this.all) if (!m.matches(ctx)) return false;
    return true;
  }
}

class Or implements Matcher {
  constructor(readonly any: readonly Matcher[]) {}
  matches(ctx: MatchContext): boolean {
    for (const m of this.any) if (m.matches(ctx)) return true;
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
