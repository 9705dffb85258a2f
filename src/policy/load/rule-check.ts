/**
 * The semantic checks of `spec.rules` that JSON Schema cannot express. The walk is defensive:
 * the schema has already reported wrong shapes, and this still runs so that every problem
 * of a file is reported at once.
 */
import type { FieldPath } from '../../lib/index.js';
import { conditionIssues, listIssues } from './condition-check.js';
import { issue, type Issue } from './issue.js';
import { pathProblem } from './path-check.js';
import {
  checkHost,
  checkIpBlock,
  checkMethod,
  checkPort,
  checkPrincipal,
  checkStringMatch,
  type ValueCheck,
} from './value-checks.js';

const checkPath: ValueCheck = (value) => pathProblem(value);

const SOURCE_CHECKS: Readonly<Record<string, ValueCheck>> = {
  principals: checkPrincipal,
  notPrincipals: checkPrincipal,
  requestPrincipals: checkStringMatch,
  notRequestPrincipals: checkStringMatch,
  namespaces: checkStringMatch,
  notNamespaces: checkStringMatch,
  ipBlocks: checkIpBlock,
  notIpBlocks: checkIpBlock,
  remoteIpBlocks: checkIpBlock,
  notRemoteIpBlocks: checkIpBlock,
};

const OPERATION_CHECKS: Readonly<Record<string, ValueCheck>> = {
  hosts: checkHost,
  notHosts: checkHost,
  methods: checkMethod,
  notMethods: checkMethod,
  paths: checkPath,
  notPaths: checkPath,
};

export function rulesIssues(rules: unknown, at: FieldPath): Issue[] {
  return entries(rules).flatMap(([rule, i]) => ruleIssues(rule, [...at, i]));
}

function ruleIssues(rule: Record<string, unknown>, at: FieldPath): Issue[] {
  return [
    ...entries(rule['from']).flatMap(([from, i]) =>
      fieldsIssues(from['source'], [...at, 'from', i, 'source'], SOURCE_CHECKS),
    ),
    ...entries(rule['to']).flatMap(([to, i]) => operationIssues(to['operation'], [...at, 'to', i, 'operation'])),
    ...entries(rule['when']).flatMap(([when, i]) => conditionIssues(when, [...at, 'when', i])),
  ];
}

function operationIssues(operation: unknown, at: FieldPath): Issue[] {
  const issues = fieldsIssues(operation, at, OPERATION_CHECKS);
  if (!isRecord(operation)) return issues;
  for (const field of ['ports', 'notPorts']) {
    const list = operation[field];
    if (!Array.isArray(list)) continue;
    list.forEach((port: unknown, i) => {
      const problem = typeof port === 'string' || typeof port === 'number' ? checkPort(port) : undefined;
      if (problem !== undefined) issues.push(issue(problem.code, [...at, field, i], problem.message));
    });
  }
  return issues;
}

function fieldsIssues(object: unknown, at: FieldPath, checks: Readonly<Record<string, ValueCheck>>): Issue[] {
  if (!isRecord(object)) return [];
  return Object.entries(checks).flatMap(([field, check]) => listIssues(object[field], [...at, field], check));
}

/** The mappings of a list with their indexes; anything else is the schema's to report. */
export function entries(list: unknown): [Record<string, unknown>, number][] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown, i) => (isRecord(item) ? [[item, i] as [Record<string, unknown>, number]] : []));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
