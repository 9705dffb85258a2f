/**
 * Taking the enforced DENYs away from an ALLOW grant: a DENY that covers it removes it, one
 * that covers some of its values on one attribute removes exactly those, one that may meet
 * part of what is left stays as an "unless" for the witness search to steer around.
 */
import { alwaysHolds, kindOf, type Conjunction } from './clause.js';
import { relate } from './cover.js';
import { contains } from './pattern.js';
import type { Unless } from './types.js';

/**
 * The grant once the DENYs are taken away: undefined when one covers it whole; otherwise
 * narrowed where a DENY covers some of its values exactly (a `/debug/*` DENY takes `/debug/*`
 * out of an ALLOW's paths), with the DENYs that may still meet the rest as "unless".
 */
export function cut(grant: Conjunction, denies: readonly Unless[]): { clauses: Conjunction; unless: Unless[] } | undefined {
  let clauses = grant;
  const unless: Unless[] = [];
  for (const deny of denies) {
    let relation = relate(clauses, deny.clauses);
    if (relation === 'partial') {
      const narrowed = narrow(clauses, deny.clauses);
      if (narrowed === undefined) return undefined;
      clauses = narrowed;
      relation = relate(clauses, deny.clauses);
    }
    if (relation === 'covers') return undefined;
    if (relation === 'partial') unless.push(deny);
  }
  return { clauses, unless };
}

/**
 * When a DENY holds wherever the grant holds except on one attribute, which it restricts to
 * some values, the grant's values on that attribute the DENY's contain are denied outright:
 * they are removed. Undefined when none is left (the DENY covers the grant).
 */
function narrow(grant: Conjunction, deny: Conjunction): Conjunction | undefined {
  const open = deny.filter((d) => !alwaysHolds(d) && relate(grant, [d]) !== 'covers');
  if (open.length !== 1 || open[0]!.values === undefined) return grant;
  const d = open[0]!;
  const kind = kindOf(d.attribute);
  const at = grant.findIndex((g) => g.attribute === d.attribute && g.values !== undefined);
  if (at < 0) return grant;
  const kept = grant[at]!.values!.filter((gv) => !d.values!.some((dv) => contains(kind, dv, gv)));
  if (kept.length === 0) return undefined;
  return grant.map((g, i) => (i === at ? { attribute: g.attribute, values: kept } : g));
}
