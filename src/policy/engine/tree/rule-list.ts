/** The leaves of the index: candidate rules, split by exact method where rules name one. */
import type { CompiledRule, RuleVisitor } from './compiled-rule.js';

export class RuleList {
  // Created on first use: most lists hold a handful of rules, and empty Maps are not free.
  #byMethod: Map<string, CompiledRule[]> | undefined;
  readonly #anyMethod: CompiledRule[] = [];

  /** `methods` undefined: the rule may match any method. */
  add(candidate: CompiledRule, methods: readonly string[] | undefined): void {
    if (methods === undefined) return pushOnce(this.#anyMethod, candidate);
    const byMethod = (this.#byMethod ??= new Map());
    for (const method of methods) {
      let list = byMethod.get(method);
      if (list === undefined) byMethod.set(method, (list = []));
      pushOnce(list, candidate);
    }
  }

  collect(method: string, visitor: RuleVisitor): void {
    const list = this.#byMethod?.get(method);
    if (list !== undefined) visitAll(list, visitor);
    visitAll(this.#anyMethod, visitor);
  }
}

/** Indexed, not for-of: an iterator the optimizer fails to elide allocates per call. */
export function visitAll(candidates: readonly CompiledRule[], visitor: RuleVisitor): void {
  for (let i = 0; i < candidates.length; i += 1) visitor.consider(candidates[i]!);
}

/** Rules arrive in ordinal order, so a repeat is always the last element. */
function pushOnce(list: CompiledRule[], candidate: CompiledRule): void {
  if (list[list.length - 1] !== candidate) list.push(candidate);
}
