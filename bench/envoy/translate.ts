/**
 * The bench's policy set written for the other two engines, rule for rule: Envoy's RBAC
 * filter (a DENY filter then an ALLOW filter, as Istio translates AuthorizationPolicy) and
 * Rego for opa-envoy-plugin. Only what the generated sets use is translated (principals,
 * methods, paths, a header condition, a destination service); anything else throws, so a
 * translation can never silently mean less than meshwarden's policy.
 *
 * The identity all three read is the caller's SPIFFE ID in `x-forwarded-client-cert`
 * (`URI=<id>`, one element), forwarded untouched by Envoy (ALWAYS_FORWARD_ONLY). The destination
 * service is the route's: meshwarden and OPA read `context_extensions.service` (OPA: `contextExtensions`, protojson) (set on the
 * service's virtual host), RBAC the `:authority` that selected that virtual host.
 */
import type { Condition, Operation, Policy, Rule, Source } from '../../src/policy/model.js';

export const XFCC = 'x-forwarded-client-cert';
export const hostOf = (service: string) => `${service}.prod.svc`;
export const xfccOf = (principal: string) => `URI=${principal}`;

const SOURCE_FIELDS = new Set(['principals']);
const OPERATION_FIELDS = new Set(['methods', 'paths']);
const HEADER_KEY = /^request\.headers\[([^\]]+)\]$/;

function supported(policy: Policy): void {
  const fail = (what: string) => {
    throw new Error(`translate: policy ${policy.id}: ${what} is not translated`);
  };
  if (policy.mode !== 'enforce' || policy.action === 'AUDIT') fail(`${policy.mode} ${policy.action}`);
  if (policy.scope.namespace !== undefined || policy.scope.selector !== undefined) fail('a namespace/selector scope');
  for (const rule of policy.rules) {
    for (const s of rule.from ?? []) for (const k of Object.keys(s)) if (!SOURCE_FIELDS.has(k)) fail(`source.${k}`);
    for (const o of rule.to ?? []) for (const k of Object.keys(o)) if (!OPERATION_FIELDS.has(k)) fail(`operation.${k}`);
    for (const c of rule.when ?? []) if (!HEADER_KEY.test(c.key) || c.notValues !== undefined) fail(`when ${c.key}`);
  }
}

/** A path pattern as an RE2 regex (templates), or as exact / prefix / suffix / presence. */
export type PathPattern =
  | { readonly kind: 'exact' | 'prefix' | 'suffix'; readonly text: string }
  | { readonly kind: 'presence' }
  | { readonly kind: 'regex'; readonly regex: string };

export function pathPattern(pattern: string): PathPattern {
  if (pattern.includes('{')) {
    const body = pattern
      .slice(1)
      .split('/')
      .map((s) => (s === '{*}' ? '[^/]+' : s === '{**}' ? '.+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return { kind: 'regex', regex: `^/${body}$` };
  }
  if (pattern === '*') return { kind: 'presence' };
  if (pattern.endsWith('*')) return { kind: 'prefix', text: pattern.slice(0, -1) };
  if (pattern.startsWith('*')) return { kind: 'suffix', text: pattern.slice(1) };
  return { kind: 'exact', text: pattern };
}

// ---------------------------------------------------------------- Envoy RBAC

type Json = Record<string, unknown>;
const exactHeader = (name: string, value: string): Json => ({ header: { name, string_match: { exact: value } } });
const orRules = (rules: Json[]): Json => (rules.length === 1 ? rules[0]! : { or_rules: { rules } });
const orIds = (ids: Json[]): Json => (ids.length === 1 ? ids[0]! : { or_ids: { ids } });

function rbacPath(pattern: string): Json {
  const p = pathPattern(pattern);
  switch (p.kind) {
    case 'presence':
      return { any: true };
    case 'regex':
      return { url_path: { path: { safe_regex: { regex: p.regex } } } };
    default:
      return { url_path: { path: { [p.kind]: p.text } } };
  }
}

function rbacOperation(o: Operation): Json {
  const parts: Json[] = [];
  if (o.methods) parts.push(orRules(o.methods.map((m) => exactHeader(':method', m))));
  if (o.paths) parts.push(orRules(o.paths.map(rbacPath)));
  return parts.length === 0 ? { any: true } : parts.length === 1 ? parts[0]! : { and_rules: { rules: parts } };
}

function rbacCondition(c: Condition): Json {
  const header = HEADER_KEY.exec(c.key)![1]!.toLowerCase();
  return orRules((c.values ?? []).map((v) => exactHeader(header, v)));
}

function rbacSource(s: Source): Json {
  return s.principals ? orIds(s.principals.map((p) => ({ header: { name: XFCC, string_match: { exact: xfccOf(p) } } }))) : { any: true };
}

function rbacPolicy(policy: Policy, rule: Rule): Json {
  const and: Json[] = [];
  if (policy.scope.services) and.push(orRules(policy.scope.services.map((s) => exactHeader(':authority', hostOf(s)))));
  if (rule.to) and.push(orRules(rule.to.map(rbacOperation)));
  for (const c of rule.when ?? []) and.push(rbacCondition(c));
  const permission = and.length === 0 ? { any: true } : and.length === 1 ? and[0]! : { and_rules: { rules: and } };
  return { permissions: [permission], principals: rule.from ? rule.from.map(rbacSource) : [{ any: true }] };
}

/** The two RBAC http filters (DENY first, then ALLOW: allow only what an ALLOW rule matches). */
export function rbacFilters(policies: readonly Policy[]): Json[] {
  policies.forEach(supported);
  const byAction = (action: 'ALLOW' | 'DENY') => {
    const out: Json = {};
    for (const p of policies.filter((x) => x.action === action)) p.rules.forEach((r, i) => (out[`${p.id}#${i}`] = rbacPolicy(p, r)));
    return out;
  };
  const filter = (action: 'ALLOW' | 'DENY', name: string) => ({
    name,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
      rules: { action, policies: byAction(action) },
    },
  });
  return [filter('DENY', 'envoy.filters.http.rbac.deny'), filter('ALLOW', 'envoy.filters.http.rbac')];
}

// ---------------------------------------------------------------- Rego

export const REGO_PACKAGE = 'meshwarden.bench';
export const REGO_DECISION = 'meshwarden/bench/allow';

const q = (s: string) => JSON.stringify(s);
const set = (values: readonly string[]) => `{${values.map(q).join(', ')}}`;

function regoPath(pattern: string): string {
  const p = pathPattern(pattern);
  switch (p.kind) {
    case 'presence':
      return 'true';
    case 'exact':
      return `path == ${q(p.text)}`;
    case 'prefix':
      return `startswith(path, ${q(p.text)})`;
    case 'suffix':
      return `endswith(path, ${q(p.text)})`;
    case 'regex':
      return `regex.match(${q(p.regex)}, path)`;
  }
}

/**
 * One Rego body per (rule × source × operation × path alternative): Rego ORs bodies. The
 * service is compared on `input` directly, so OPA's rule index picks the destination's rules.
 */
function regoBodies(head: string, policy: Policy, rule: Rule): string[] {
  const common: string[] = [];
  if (policy.scope.services) {
    common.push(policy.scope.services.length === 1
      ? `input.attributes.contextExtensions.service == ${q(policy.scope.services[0]!)}`
      : `input.attributes.contextExtensions.service in ${set(policy.scope.services)}`);
  }
  for (const c of rule.when ?? []) common.push(`object.get(input.attributes.request.http.headers, ${q(HEADER_KEY.exec(c.key)![1]!.toLowerCase())}, "") in ${set(c.values ?? [])}`);
  const sources = rule.from?.map((s) => (s.principals ? [`principal in ${set(s.principals)}`] : [])) ?? [[]];
  const operations: string[][] = [];
  for (const o of rule.to ?? [{}]) {
    const methods = o.methods ? [`input.attributes.request.http.method in ${set(o.methods)}`] : [];
    for (const path of o.paths ?? [undefined]) operations.push([...methods, ...(path === undefined ? [] : [regoPath(path)])]);
  }
  const bodies: string[] = [];
  for (const s of sources) for (const o of operations) {
    const lines = [...common, ...s, ...o];
    bodies.push(`${head} if {\n${(lines.length ? lines : ['true']).map((l) => `\t${l}`).join('\n')}\n}`);
  }
  return bodies;
}

export function regoModule(policies: readonly Policy[]): string {
  policies.forEach(supported);
  const out = [
    `package ${REGO_PACKAGE}`,
    '',
    'import rego.v1',
    '',
    '# Generated by bench/envoy/translate.ts from the same policy set meshwarden serves.',
    '# DENY rules first, then ALLOW rules; default deny.',
    'default allow := false',
    '',
    'allow if {',
    '\tnot denied',
    '\tallowed',
    '}',
    '',
    'path := split(input.attributes.request.http.path, "?")[0]',
    '',
    '# The nearest (last) element of x-forwarded-client-cert, its URI= field: meshwarden reads the same.',
    'principal := substring(kv, 4, -1) if {',
    `\txfcc := input.attributes.request.http.headers[${q(XFCC)}]`,
    '\telements := split(xfcc, ",")',
    '\tsome kv in split(trim_space(elements[count(elements) - 1]), ";")',
    '\tstartswith(kv, "URI=")',
    '}',
    '',
  ];
  for (const p of policies) {
    const head = p.action === 'DENY' ? 'denied' : 'allowed';
    out.push(`# ${p.id}`);
    for (const rule of p.rules) out.push(...regoBodies(head, p, rule), '');
  }
  return out.join('\n');
}
