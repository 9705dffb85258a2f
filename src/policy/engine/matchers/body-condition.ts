/**
 * A `request.body.json[...]` condition, its `values` and `notValues` as one matcher: what
 * the policy did not see decides the whole condition at once, by the policy's action. An
 * unseen body or an absent field holds for a DENY or AUDIT (it may be what they are about)
 * and fails for an ALLOW (never an allow from what was not seen). A list field is checked
 * element by element: an ALLOW needs every element to pass, a DENY or AUDIT any one, since
 * the workload may act on any of them.
 */
import type { BodyPath } from '../body/body-paths.js';
import { bodyValue } from '../body/body-value.js';
import type { MatchContext } from './match-context.js';
import type { Matcher } from './matcher.js';
import type { ValueMatcher } from './string-match.js';

export class BodyCondition implements Matcher {
  constructor(
    readonly path: BodyPath,
    readonly values: ValueMatcher | undefined,
    readonly notValues: ValueMatcher | undefined,
    /** The outcome when the field was not seen: true for DENY and AUDIT, false for ALLOW. */
    readonly unseen: boolean,
  ) {}

  matches(ctx: MatchContext): boolean {
    const value = bodyValue(ctx.body(), this.path);
    if (value === undefined) return this.unseen;
    if (typeof value === 'string') return this.#passes(value);
    for (let i = 0; i < value.length; i += 1) {
      // ALLOW: one failing element fails it; DENY and AUDIT: one passing element holds it.
      if (this.#passes(value[i]!) === this.unseen) return this.unseen;
    }
    return !this.unseen;
  }

  #passes(text: string): boolean {
    return (this.values === undefined || this.values.matches(text)) && (this.notValues === undefined || !this.notValues.matches(text));
  }
}
