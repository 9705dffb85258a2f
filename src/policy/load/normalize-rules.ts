/**
 * Copies schema-valid rules into the Policy model: only the model's fields, ports as text,
 * and the case-insensitive names written as requests carry them (header names in condition
 * keys, hosts, `connection.sni` values: lower case, an SNI without its trailing dot), so that
 * `X-Tenant`, `API.example.com` or `Cache.Data.svc.` still match, a DENY included.
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
  const key = normalizeKey(String(condition['key']));
  const value = key === 'connection.sni' ? sniValue : String;
  const out: { key: string; values?: string[]; notValues?: string[] } = { key };
  if (Array.isArray(condition['values'])) out.values = condition['values'].map((v: unknown) => value(v));
  if (Array.isArray(condition['notValues'])) out.notValues = condition['notValues'].map((v: unknown) => value(v));
  return out;
}

/** As envoy/ canonicalizes a request's SNI: lower case, no trailing dot (a `*` pattern keeps its star). */
function sniValue(value: unknown): string {
  const text = String(value).toLowerCase();
  return text.length > 1 && text.endsWith('.') ? text.slice(0, -1) : text;
}

const HEADER_KEY = /^request\.headers\[(.+)\]$/;

function normalizeKey(key: string): string {
  const header = HEADER_KEY.exec(key);
  return header === null ? key : `request.headers[${header[1]!.toLowerCase()}]`;
}
