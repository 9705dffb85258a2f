/**
 * One rule checked the obvious way, field by field, reporting the first clause that
 * failed. The reference evaluator and explain traces are built on this.
 */
import type { Condition, Operation, PolicyAction, Rule, Source } from '../../model.js';
import { parseConditionKey } from '../matchers/condition-key.js';
import { checkBodyCondition } from './body-check.js';
import { conditionValues, factValues, type Fact, type Facts } from './facts.js';
import { leafMatches, type LeafKind } from './leaf.js';

export interface ClauseFailure {
  /** Where, as written in the policy: `from[0].source.principals`, `when[1].notValues`. */
  readonly clause: string;
  /** The request's value(s); undefined when the attribute is absent. */
  readonly actual: readonly string[] | undefined;
  readonly expected: readonly string[];
  /** True for a `notX` / `notValues` clause: the value matched one it must not. */
  readonly negated: boolean;
  /** When every `from` (or `to`) entry failed: the failures of the entries after the first. */
  readonly others?: readonly ClauseFailure[];
  /** Said instead of `actual` where the value is not shown (a body field), or was not seen. */
  readonly withheld?: string;
}

/**
 * `action`: what the rule's policy decides; a body field it could not see counts against an
 * ALLOW only. On a connection, an ALLOW rule that names an HTTP attribute fails at the first
 * one, and a DENY or AUDIT rule is checked as if those parts were not written.
 */
export function checkRule(rule: Rule, facts: Facts, action: PolicyAction): ClauseFailure | undefined {
  const connection = facts.request.kind === 'connection';
  if (connection && action === 'ALLOW') {
    const http = firstHttpClause(rule);
    if (http !== undefined) return http;
  }
  const from = anyEntry(rule.from, 'from', 'source', (s, at) => checkFields(facts, at, sourceFields(s)));
  if (from !== undefined) return from;
  const to = anyEntry(rule.to, 'to', 'operation', (o, at) => checkFields(facts, at, operationFields(o)));
  if (to !== undefined) return to;
  for (const [index, condition] of (rule.when ?? []).entries()) {
    if (connection && isHttpKey(condition.key)) continue;
    const failure = checkCondition(condition, facts, action, `when[${index}]`);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

/** What a connection does not have: the end user, the host, the method, the path. */
const HTTP_FACTS: ReadonlySet<Fact> = new Set<Fact>(['request.auth.principal', 'host', 'method', 'path']);
const HTTP_KEYS: ReadonlySet<string> = new Set(['header', 'claim', 'body', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter']);

function isHttpKey(key: string): boolean {
  return HTTP_KEYS.has(parseConditionKey(key).kind);
}

/** The first part of the rule, in from / to / when order, that only an HTTP request has. */
function firstHttpClause(rule: Rule): ClauseFailure | undefined {
  const entries: [string, readonly FieldSpec[]][] = [
    ...(rule.from ?? []).map((s, i): [string, readonly FieldSpec[]] => [`from[${i}].source`, sourceFields(s)]),
    ...(rule.to ?? []).map((o, i): [string, readonly FieldSpec[]] => [`to[${i}].operation`, operationFields(o)]),
  ];
  for (const [at, fields] of entries) {
    const field = fields.find(([, values, fact]) => values !== undefined && values.length > 0 && HTTP_FACTS.has(fact));
    if (field !== undefined) return httpFailure(`${at}.${field[0]}`, field[1]!, field[0].startsWith('not'));
  }
  const index = (rule.when ?? []).findIndex((condition) => isHttpKey(condition.key));
  if (index < 0) return undefined;
  const condition = rule.when![index]!;
  const negated = condition.values === undefined || condition.values.length === 0;
  return httpFailure(`when[${index}].${negated ? 'notValues' : 'values'}[${condition.key}]`, (negated ? condition.notValues : condition.values) ?? [], negated);
}

function httpFailure(clause: string, expected: readonly string[], negated: boolean): ClauseFailure {
  return { clause, actual: undefined, expected, negated, withheld: 'a connection has no HTTP attributes' };
}

/** Entries are OR-ed: passes when one does; an unset or empty list passes. */
function anyEntry<T>(
  entries: readonly T[] | undefined,
  name: string,
  inner: string,
  check: (entry: T, at: string) => ClauseFailure | undefined,
): ClauseFailure | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const failures: ClauseFailure[] = [];
  for (const [index, entry] of entries.entries()) {
    const failure = check(entry, `${name}[${index}].${inner}`);
    if (failure === undefined) return undefined;
    failures.push(failure);
  }
  const [first, ...others] = failures;
  return others.length === 0 ? first : { ...first!, others };
}

type FieldSpec = readonly [name: string, values: readonly string[] | undefined, fact: Fact, kind: LeafKind];

function sourceFields(source: Source): readonly FieldSpec[] {
  return [
    ['principals', source.principals, 'source.principal', 'principal'],
    ['notPrincipals', source.notPrincipals, 'source.principal', 'principal'],
    ['requestPrincipals', source.requestPrincipals, 'request.auth.principal', 'string'],
    ['notRequestPrincipals', source.notRequestPrincipals, 'request.auth.principal', 'string'],
    ['namespaces', source.namespaces, 'source.namespace', 'string'],
    ['notNamespaces', source.notNamespaces, 'source.namespace', 'string'],
    ['ipBlocks', source.ipBlocks, 'source.ip', 'cidr'],
    ['notIpBlocks', source.notIpBlocks, 'source.ip', 'cidr'],
    ['remoteIpBlocks', source.remoteIpBlocks, 'source.ip', 'cidr'],
    ['notRemoteIpBlocks', source.notRemoteIpBlocks, 'source.ip', 'cidr'],
  ];
}

function operationFields(operation: Operation): readonly FieldSpec[] {
  return [
    ['hosts', operation.hosts, 'host', 'host'],
    ['notHosts', operation.notHosts, 'host', 'host'],
    ['ports', operation.ports, 'destination.port', 'port'],
    ['notPorts', operation.notPorts, 'destination.port', 'port'],
    ['methods', operation.methods, 'method', 'string'],
    ['notMethods', operation.notMethods, 'method', 'string'],
    ['paths', operation.paths, 'path', 'path'],
    ['notPaths', operation.notPaths, 'path', 'path'],
  ];
}

/** On a connection, the HTTP-only fields are skipped (an ALLOW naming one never got here). */
function checkFields(facts: Facts, at: string, fields: readonly FieldSpec[]): ClauseFailure | undefined {
  const connection = facts.request.kind === 'connection';
  for (const [name, expected, fact, kind] of fields) {
    if (expected === undefined || expected.length === 0) continue;
    if (connection && HTTP_FACTS.has(fact)) continue;
    const negated = name.startsWith('not');
    const failure = checkValues(factValues(facts, fact), expected, kind, negated, `${at}.${name}`);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

function checkCondition(condition: Condition, facts: Facts, action: PolicyAction, at: string): ClauseFailure | undefined {
  const key = parseConditionKey(condition.key);
  if (key.kind === 'body') return checkBodyCondition(condition, key.path, facts, action, at);
  const kind: LeafKind = leafKindOfKey(key.kind);
  const actual = conditionValues(facts, key);
  for (const [expected, negated] of [[condition.values, false], [condition.notValues, true]] as const) {
    if (expected === undefined || expected.length === 0) continue;
    const failure = checkValues(actual, expected, kind, negated, `${at}.${negated ? 'notValues' : 'values'}[${condition.key}]`);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

function leafKindOfKey(kind: ReturnType<typeof parseConditionKey>['kind']): LeafKind {
  if (kind === 'source.ip' || kind === 'remote.ip' || kind === 'destination.ip') return 'cidr';
  if (kind === 'destination.port') return 'port';
  if (kind === 'source.principal') return 'principal';
  return 'string';
}

/** Positive: some value matches some pattern. Negated: none does (an absent value passes). */
function checkValues(
  actual: readonly string[] | undefined,
  expected: readonly string[],
  kind: LeafKind,
  negated: boolean,
  clause: string,
): ClauseFailure | undefined {
  const hit = actual !== undefined && actual.some((value) => expected.some((p) => leafMatches(kind, p, value)));
  return hit === negated ? { clause, actual, expected, negated } : undefined;
}
