/** A grant as reach reports it: its caller class, methods, paths and the conditions left. */
import type { Conjunction } from './clause.js';
import type { Grant } from './compute-reach.js';
import type { CallerClass, Clause, ReachEntry } from './types.js';

export function describe(grant: Grant): Omit<ReachEntry, 'witness'> {
  const { caller, rest } = callerOf(grant.clauses);
  const methods = rest.find((c) => c.attribute === 'method' && c.values !== undefined);
  const paths = rest.find((c) => c.attribute === 'path' && c.values !== undefined);
  return {
    destination: grant.destination,
    caller,
    ...(methods ? { methods } : {}),
    ...(paths ? { paths } : {}),
    conditions: rest.filter((c) => c !== methods && c !== paths),
    ...(grant.allowedBy ? { allowedBy: grant.allowedBy } : {}),
    unless: grant.unless,
  };
}

/** The caller class a conjunction names, and the clauses left once it is said. */
function callerOf(clauses: Conjunction): { caller: CallerClass; rest: Clause[] } {
  const principal = clauses.find((c) => c.attribute === 'source.principal' && c.values?.length === 1);
  const namespace = clauses.find((c) => c.attribute === 'source.namespace' && c.values?.length === 1);
  const used = principal ?? namespace;
  const rest = clauses.filter((c) => c !== used);
  if (principal !== undefined) {
    const value = principal.values![0]!;
    if (value === '*') return { caller: { kind: 'authenticated' }, rest };
    return { caller: value.includes('*') ? { kind: 'principals', pattern: value } : { kind: 'principal', principal: value }, rest };
  }
  if (namespace !== undefined) return { caller: { kind: 'namespace', namespace: namespace.values![0]! }, rest };
  // Several values left after splitting (both principals and namespaces listed): the principals' own grants carry them.
  return { caller: { kind: 'anyone' }, rest };
}
