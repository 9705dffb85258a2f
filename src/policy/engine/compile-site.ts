/**
 * Where the compiler is: the policy and field being compiled, the attributes read so far,
 * and the matchers shared across the whole compile. The field path is only spelled out
 * when an error needs it: building it for every field was a tenth of compile time.
 */
import type { PolicyAction } from '../model.js';
import { compileAt } from './compile-error.js';
import type { RequestAttribute } from './request-attribute.js';
import type { SharedMatchers } from './shared-matchers.js';

export class CompileSite {
  constructor(
    readonly policy: string,
    /** What the rules decide: a condition on what a request may not show depends on it (BodyCondition). */
    readonly action: PolicyAction,
    readonly reads: Set<RequestAttribute>,
    readonly shared: SharedMatchers,
    readonly parent: CompileSite | undefined,
    /** A field name (`from`), or '' for an index step. */
    readonly name: string,
    /** The index of an index step, else -1. */
    readonly index: number,
  ) {}

  /** Field path so far, e.g. `rules[0].from[1].source`. */
  get field(): string {
    const above = this.parent === undefined ? '' : this.parent.field;
    if (this.index >= 0) return `${above}[${this.index}]`;
    return above === '' ? this.name : `${above}.${this.name}`;
  }
}

/** The site of a policy's rules: `rules`; `indexed(rulesSite(...), i)` is rule i. */
export function rulesSite(policy: string, action: PolicyAction, reads: Set<RequestAttribute>, shared: SharedMatchers): CompileSite {
  return new CompileSite(policy, action, reads, shared, undefined, 'rules', -1);
}

/** The site of one rule of a policy: `rules[index]`. */
export function ruleSite(policy: string, action: PolicyAction, index: number, reads: Set<RequestAttribute>, shared: SharedMatchers): CompileSite {
  return indexed(rulesSite(policy, action, reads, shared), index);
}

export function at(site: CompileSite, field: string): CompileSite {
  return new CompileSite(site.policy, site.action, site.reads, site.shared, site, field, -1);
}

export function indexed(site: CompileSite, index: number): CompileSite {
  return new CompileSite(site.policy, site.action, site.reads, site.shared, site, '', index);
}

/** Runs a leaf compiler under `site`, so its PatternError names the policy and field. */
export function build<T>(site: CompileSite, make: () => T): T {
  return compileAt(site.policy, () => site.field, make);
}

/** Istio treats an empty list as an unset field. */
export function isSet<T>(values: readonly T[] | undefined): values is readonly T[] {
  return values !== undefined && values.length > 0;
}
