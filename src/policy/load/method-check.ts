/**
 * A method no HTTP client sends (`GTE`) passes the method check (upper-case token) and then
 * matches no request: an ALLOW that silently allows less, a DENY that silently denies less.
 * Warned, with the registered method it most likely meant; a method outside the registry that
 * servers do use (PURGE) is not warned about.
 */
import { closestName, type FieldPath } from '../../lib/index.js';
import { issue, type Issue } from './issue.js';
import { entries, isRecord } from './rule-check.js';
import { checkMethod } from './value-checks.js';

/** IANA's HTTP Method Registry, and the cache-purge method proxies and CDNs accept. */
const KNOWN_METHODS: readonly string[] = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY',
  'ACL', 'BASELINE-CONTROL', 'BIND', 'CHECKIN', 'CHECKOUT', 'COPY', 'LABEL', 'LINK', 'LOCK', 'MERGE',
  'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MKREDIRECTREF', 'MKWORKSPACE', 'MOVE', 'ORDERPATCH', 'PRI',
  'PROPFIND', 'PROPPATCH', 'REBIND', 'REPORT', 'SEARCH', 'UNBIND', 'UNCHECKOUT', 'UNLINK', 'UNLOCK',
  'UPDATE', 'UPDATEREDIRECTREF', 'VERSION-CONTROL', 'PURGE',
];
const KNOWN = new Set(KNOWN_METHODS);
/** What a typo is compared with: the methods people write in policies. */
const COMMON = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];

/** Warnings for each `methods` / `notMethods` entry of the rules that no client sends. */
export function unknownMethodWarnings(rules: unknown, at: FieldPath): Issue[] {
  return entries(rules).flatMap(([rule, r]) =>
    entries(rule['to']).flatMap(([to, o]) => operationWarnings(to['operation'], [...at, r, 'to', o, 'operation'])),
  );
}

function operationWarnings(operation: unknown, at: FieldPath): Issue[] {
  if (!isRecord(operation)) return [];
  return (['methods', 'notMethods'] as const).flatMap((field) => {
    const values = operation[field];
    if (!Array.isArray(values)) return [];
    return values.flatMap((method: unknown, i) => (isUnknown(method) ? [unknownMethod(method, field, [...at, field, i])] : []));
  });
}

/** A method token (others are errors already, see checkMethod) that no client sends. */
function isUnknown(method: unknown): method is string {
  return typeof method === 'string' && checkMethod(method) === undefined && !KNOWN.has(method);
}

function unknownMethod(method: string, field: 'methods' | 'notMethods', at: FieldPath): Issue {
  const meant = closestName(method, COMMON);
  const effect = field === 'methods' ? 'it matches no request' : 'it leaves out no request';
  const hint = meant === undefined ? '' : `; did you mean "${meant}"?`;
  return issue('unknown_method', at, `"${method}" is not a method HTTP clients send, so ${effect}${hint}`);
}
