/**
 * A rule as conjunctions of clauses: each `from` entry × each `to` entry, with every `when`,
 * is one conjunction (entries are OR-ed, fields and conditions AND-ed). Patterns are
 * normalized as the engine compares them. A clause never carries both `values` and
 * `notValues`: a condition that has both becomes two clauses.
 */
import type { Condition, Operation, Rule, Source } from '../model.js';
import { parseConditionKey } from '../engine/matchers/condition-key.js';
import { normalizePattern, type PatternKind } from './pattern.js';
import type { Clause } from './types.js';

export type Conjunction = readonly Clause[];

export function conjunctionsOf(rule: Rule): readonly Conjunction[] {
  const froms: readonly (Source | undefined)[] = rule.from?.length ? rule.from : [undefined];
  const tos: readonly (Operation | undefined)[] = rule.to?.length ? rule.to : [undefined];
  const when = (rule.when ?? []).flatMap(conditionClauses);
  const out: Conjunction[] = [];
  for (const from of froms) {
    const source = from === undefined ? [] : sourceClauses(from);
    for (const to of tos) out.push([...source, ...(to === undefined ? [] : operationClauses(to)), ...when]);
  }
  return out;
}

function sourceClauses(source: Source): Clause[] {
  return [
    ...pair('source.principal', source.principals, source.notPrincipals),
    ...pair('request.auth.principal', source.requestPrincipals, source.notRequestPrincipals),
    ...pair('source.namespace', source.namespaces, source.notNamespaces),
    ...pair('source.ip', source.ipBlocks, source.notIpBlocks),
    ...pair('source.ip', source.remoteIpBlocks, source.notRemoteIpBlocks),
  ];
}

function operationClauses(operation: Operation): Clause[] {
  return [
    ...pair('host', operation.hosts, operation.notHosts),
    ...pair('destination.port', operation.ports, operation.notPorts),
    ...pair('method', operation.methods, operation.notMethods),
    ...pair('path', operation.paths, operation.notPaths),
  ];
}

function conditionClauses(condition: Condition): Clause[] {
  return pair(attributeOfKey(condition.key), condition.values, condition.notValues);
}

/** The attribute a `when` key reads, named as the source fields name theirs. */
export function attributeOfKey(key: string): string {
  const parsed = parseConditionKey(key);
  switch (parsed.kind) {
    case 'header': return `request.headers[${parsed.name}]`;
    case 'claim': return `request.auth.claims${parsed.path.map((p) => `[${p}]`).join('')}`;
    case 'body': return `request.body.json${parsed.path.map((p) => `[${p}]`).join('')}`;
    case 'remote.ip': return 'source.ip';
    default: return parsed.kind;
  }
}

function pair(attribute: string, values: readonly string[] | undefined, notValues: readonly string[] | undefined): Clause[] {
  const kind = kindOf(attribute);
  const out: Clause[] = [];
  if (values?.length) out.push({ attribute, values: values.map((v) => normalizePattern(kind, v)) });
  if (notValues?.length) out.push({ attribute, notValues: notValues.map((v) => normalizePattern(kind, v)) });
  return out;
}

/** How an attribute's patterns are compared. */
export function kindOf(attribute: string): PatternKind {
  switch (attribute) {
    case 'source.principal': return 'principal';
    case 'source.ip':
    case 'destination.ip': return 'cidr';
    case 'destination.port': return 'port';
    case 'path': return 'path';
    case 'host': return 'host';
    default: return 'string';
  }
}

/** Attributes every HTTP request has (non-empty): a presence pattern on them always holds. */
const ALWAYS_PRESENT: ReadonlySet<string> = new Set(['method', 'path']);

export function alwaysHolds(clause: Clause): boolean {
  return ALWAYS_PRESENT.has(clause.attribute) && (clause.values?.includes('*') ?? false);
}
