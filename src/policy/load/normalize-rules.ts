/**
 * Copies schema-valid rules into the Policy model: only the model's fields, ports as text,
 * and the case-insensitive names lower-cased as requests carry them (header names in
 * condition keys, hosts), so that `X-Tenant` or `API.example.com` still match.
 */
import type { Condition, Operation, Rule, Source } from '../model.js';
import { isRecord } from './rule-check.js';

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces',
  'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks',
] as const;

const OPERATION_FIELDS = [
  'hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths',
] as const;

export function normalizeRules(rules: unknown): Rule[] {
  return Array.isArray(rules) ? rules.filter(isRecord).map(normalizeRule) : [];
}

function normalizeRule(rule: Record<string, unknown>): Rule {
  const out: { from?: Source[]; to?: Operation[]; when?: Condition[] } = {};
  if (Array.isArray(rule['from'])) out.from = records(rule['from'], 'source').map((s) => pick(s, SOURCE_FIELDS));
  if (Array.isArray(rule['to'])) out.to = records(rule['to'], 'operation').map(normalizeOperation);
  if (Array.isArray(rule['when'])) out.when = rule['when'].filter(isRecord).map(normalizeCondition);
  return out;
}

function normalizeOperation(operation: Record<string, unknown>): Operation {
  const out = pick(operation, OPERATION_FIELDS);
  if (out.hosts) out.hosts = out.hosts.map((h) => h.toLowerCase());
  if (out.notHosts) out.notHosts = out.notHosts.map((h) => h.toLowerCase());
  return out;
}

function records(list: readonly unknown[], field: string): Record<string, unknown>[] {
  return list.filter(isRecord).map((entry) => entry[field]).filter(isRecord);
}

function pick<F extends string>(object: Record<string, unknown>, fields: readonly F[]): Partial<Record<F, string[]>> {
  const out: Partial<Record<F, string[]>> = {};
  for (const field of fields) {
    const list = object[field];
    if (Array.isArray(list)) out[field] = list.map((v: unknown) => String(v));
  }
  return out;
}

function normalizeCondition(condition: Record<string, unknown>): Condition {
  const out: { key: string; values?: string[]; notValues?: string[] } = { key: normalizeKey(String(condition['key'])) };
  if (Array.isArray(condition['values'])) out.values = condition['values'].map((v: unknown) => String(v));
  if (Array.isArray(condition['notValues'])) out.notValues = condition['notValues'].map((v: unknown) => String(v));
  return out;
}

const HEADER_KEY = /^request\.headers\[(.+)\]$/;

function normalizeKey(key: string): string {
  const header = HEADER_KEY.exec(key);
  return header === null ? key : `request.headers[${header[1]!.toLowerCase()}]`;
}
