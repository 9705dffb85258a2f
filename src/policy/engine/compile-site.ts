/** Where the compiler is: the policy and field being compiled, and the attributes read so far. */
import { compileAt } from './compile-error.js';
import type { RequestAttribute } from './request-attribute.js';

export interface CompileSite {
  readonly policy: string;
  /** Field path so far, e.g. `rules[0].from[1].source`. */
  readonly field: string;
  readonly reads: Set<RequestAttribute>;
}

export function at(site: CompileSite, field: string): CompileSite {
  return { ...site, field: site.field === '' ? field : `${site.field}.${field}` };
}

export function indexed(site: CompileSite, index: number): CompileSite {
  return { ...site, field: `${site.field}[${index}]` };
}

/** Runs a leaf compiler under `site`, so its PatternError names the policy and field. */
export function build<T>(site: CompileSite, make: () => T): T {
  return compileAt(site.policy, site.field, make);
}

/** Istio treats an empty list as an unset field. */
export function isSet<T>(values: readonly T[] | undefined): values is readonly T[] {
  return values !== undefined && values.length > 0;
}
