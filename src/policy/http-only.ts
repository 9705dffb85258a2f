/**
 * The parts of a rule that only an HTTP request has (Istio's "HTTP-only fields"). On a TCP
 * connection, a rule that names one never matches as an ALLOW (it could not be checked: never
 * an allow from what was not seen), and a DENY or AUDIT ignores them, so it matches more
 * connections. The engine compiles with this, and `meshwarden check` warns with it.
 */
import type { FieldPath } from '../lib/index.js';
import type { Operation, Rule, Source } from './model.js';

/** The end user's principal: a connection carries no token. */
export const HTTP_ONLY_SOURCE_FIELDS = Object.freeze(['requestPrincipals', 'notRequestPrincipals'] as const satisfies readonly (keyof Source)[]);

/** Host, method and path: a connection has none. `ports` is the destination port, which it has. */
export const HTTP_ONLY_OPERATION_FIELDS = Object.freeze(
  ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const satisfies readonly (keyof Operation)[],
);

/**
 * Istio names every attribute of the HTTP request `request.*` (headers, `request.auth.*`, and
 * ours, `request.body.json[...]`); the keys a connection has are `source.*`, `remote.ip`,
 * `destination.*` and `connection.sni`.
 */
export function isHttpOnlyConditionKey(key: string): boolean {
  return key.startsWith('request.');
}

/**
 * Whether the rule names anything only an HTTP request has. Once per rule per compile, so the
 * fields are read by name: a lookup by a key from the lists above costs a megamorphic load each,
 * a tenth of a 100,000-rule compile. A test holds it to httpOnlyFields.
 */
export function needsHttp(rule: Rule): boolean {
  const { from, to, when } = rule;
  // `to` first: the rules of HTTP policies name methods or paths.
  if (to !== undefined) for (let i = 0; i < to.length; i += 1) if (operationNeedsHttp(to[i]!)) return true;
  if (from !== undefined) for (let i = 0; i < from.length; i += 1) if (isSet(from[i]!.requestPrincipals) || isSet(from[i]!.notRequestPrincipals)) return true;
  if (when !== undefined) for (let i = 0; i < when.length; i += 1) if (isHttpOnlyConditionKey(when[i]!.key)) return true;
  return false;
}

function operationNeedsHttp(o: Operation): boolean {
  return isSet(o.methods) || isSet(o.paths) || isSet(o.hosts) || isSet(o.notMethods) || isSet(o.notPaths) || isSet(o.notHosts);
}

/** One place a rule names what only an HTTP request has: its path below the rule, and what it names. */
export interface HttpOnlyField {
  /** e.g. `['to', 0, 'operation', 'paths']`, or `['when', 1, 'key']` for a condition. */
  readonly path: FieldPath;
  /** The field (`paths`), or the condition's key (`request.headers[x-tenant]`). */
  readonly name: string;
}

/** Where the rule names what only an HTTP request has, in from / to / when order. */
export function httpOnlyFields(rule: Rule): HttpOnlyField[] {
  const found: HttpOnlyField[] = [];
  rule.from?.forEach((source, i) => {
    for (const name of HTTP_ONLY_SOURCE_FIELDS) if (isSet(source[name])) found.push({ path: ['from', i, 'source', name], name });
  });
  rule.to?.forEach((operation, i) => {
    for (const name of HTTP_ONLY_OPERATION_FIELDS) if (isSet(operation[name])) found.push({ path: ['to', i, 'operation', name], name });
  });
  rule.when?.forEach((condition, i) => {
    if (isHttpOnlyConditionKey(condition.key)) found.push({ path: ['when', i, 'key'], name: condition.key });
  });
  return found;
}

/** Istio treats an empty list as an unset field. */
function isSet(values: readonly string[] | undefined): boolean {
  return values !== undefined && values.length > 0;
}
