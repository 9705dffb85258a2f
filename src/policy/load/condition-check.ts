/** Checks one `when` condition: a key meshwarden knows, and values that fit the key. */
import type { FieldPath } from '../../lib/index.js';
import { MAX_BODY_DEPTH } from '../engine/body/read-body.js';
import { issue, type Issue } from './issue.js';
import { checkIpBlock, checkPort, checkPrincipal, checkStringMatch, type ValueCheck } from './value-checks.js';

// An optional leading ':' admits Envoy's pseudo-headers (:authority, :method, :path).
const HEADER_KEY = /^request\.headers\[(:?[!#$%&'*+.^_`|~0-9A-Za-z-]+)\]$/;
const CLAIMS_KEY = /^request\.auth\.claims(\[[^[\]]+\])+$/;
const BODY = 'request.body.json';
const BODY_KEY = new RegExp(`^request\\.body\\.json(\\[[^[\\]]+\\]){1,${MAX_BODY_DEPTH}}$`);

const KEY_CHECKS: Readonly<Record<string, ValueCheck>> = {
  'source.ip': checkIpBlock,
  'remote.ip': checkIpBlock,
  'destination.ip': checkIpBlock,
  'destination.port': (v) => checkPort(v),
  'source.principal': checkPrincipal,
  'source.namespace': checkStringMatch,
  'request.auth.principal': checkStringMatch,
  'request.auth.audiences': checkStringMatch,
  'request.auth.presenter': checkStringMatch,
  'connection.sni': checkStringMatch,
};

/** The check for the values of a key, or undefined when the key is not one we know. */
export function conditionValueCheck(key: string): ValueCheck | undefined {
  if (HEADER_KEY.test(key) || CLAIMS_KEY.test(key) || BODY_KEY.test(key)) return checkStringMatch;
  return Object.hasOwn(KEY_CHECKS, key) ? KEY_CHECKS[key] : undefined;
}

export function conditionIssues(condition: Record<string, unknown>, at: FieldPath): Issue[] {
  const issues: Issue[] = [];
  const { key, values, notValues } = condition;
  if (values === undefined && notValues === undefined) {
    issues.push(issue('condition_without_values', at, 'a when condition needs values or notValues'));
  }
  if (typeof key !== 'string') return issues;
  const check = conditionValueCheck(key);
  if (check === undefined) {
    const message = key.startsWith(BODY) ? `malformed body key "${key}": ${BODY_FORM}` : `unknown condition key "${key}": ${KNOWN_KEYS}`;
    issues.push(issue('invalid_condition_key', [...at, 'key'], message));
    return issues;
  }
  for (const field of ['values', 'notValues'] as const) {
    issues.push(...listIssues(condition[field], [...at, field], check));
  }
  return issues;
}

/** Applies a check to each string of a list; anything else was reported by the schema. */
export function listIssues(list: unknown, at: FieldPath, check: ValueCheck): Issue[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((value: unknown, i) => {
    if (typeof value !== 'string') return [];
    const problem = check(value);
    return problem === undefined ? [] : [issue(problem.code, [...at, i], problem.message)];
  });
}

const KNOWN_KEYS =
  'expected request.headers[NAME], source.ip, source.namespace, source.principal, remote.ip, ' +
  'request.auth.principal, request.auth.audiences, request.auth.presenter, request.auth.claims[NAME] ' +
  '(nested: [a][b]), request.body.json[NAME] (nested: [a][b]), destination.ip, destination.port or connection.sni';

const BODY_FORM = `expected request.body.json[NAME], nested as [a][b], each name non-empty and without brackets, at most ${MAX_BODY_DEPTH} levels`;
