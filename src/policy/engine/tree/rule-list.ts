/** The leaves of the index: candidate rules, split by exact method where rules name one. */
import type { CompiledRule, RuleVisitor } from './compiled-rule.js';

export class RuleList {
  // Created on first use: most lists hold a handful of rules, and empty Maps are not free.
  #byMethod: Map<string, CompiledRule[]> | undefined;
  readonly #anyMethod: CompiledRule[] = [];

  /** `methods` undefined: the rule may match any method. */
  add(rule: CompiledRule, methods: readonly string[] | undefined): void {
    if (methods === undefined) return pushOnce(this.#anyMethod, rule);
    const byMethod = (this.#byMethod ??= new Map());
    for (const method of methods) {
      let list = byMethod.get(method);
      if (list === undefined) byMethod.set(method, (list = []));
      pushOnce(list, rule);
    }
  }

  collect(method: string, visitor: RuleVisitor): void {
    const list = this.#byMethod?.get(method);
    if (list !== undefined) for (const rule of list) visitor.consider(rule);
    for (const rule of this.#anyMethod) visitor.consider(rule);
  }
}

/** Rules arrive in ordinal order, so a repeat is always the last element. */
function pushOnce(list: CompiledRule[], rule: CompiledRule): void {
  if (list[list.length - 1] !== rule) list.push(rule);
}
