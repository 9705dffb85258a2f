/**
 * One rule → one Matcher, with DESIGN's semantics: values OR-ed within a field, fields
 * AND-ed, `from` entries OR-ed, `to` entries OR-ed, from/to/when AND-ed, `notX` matching
 * when no value does. Unset or empty fields constrain nothing. Compiled for connections,
 * the rule's HTTP-only parts (http-only.ts) are left out, as a DENY or AUDIT reads them there.
 */
import { isHttpOnlyConditionKey } from '../http-only.js';
import type { Operation, Rule, Source } from '../model.js';
import { at, build, indexed, isSet, type CompileSite } from './compile-site.js';
import { compileCondition, compilePorts } from './compile-condition.js';
import { compileCidrs } from './matchers/cidr-match.js';
import * as field from './matchers/field-matchers.js';
import { and, not, or, type Matcher } from './matchers/matcher.js';
import { PathSetMatcher } from './matchers/path-match.js';
import { compileStringSet } from './matchers/string-match.js';
import type { RequestAttribute } from './request-attribute.js';

export interface CompiledMatcher {
  readonly matcher: Matcher;
  /**
   * True when `from` names exact `principals` and nothing else, and `matcher` leaves it
   * out: it then holds only for a request whose source principal is one of the rule's,
   * which an index that files the rule under each of them has already established.
   */
  readonly principalImplied: boolean;
}

/**
 * `principalsIndexed`: the caller files rules by exact principal, so `from` may be left to it.
 * `connection`: the rule as it reads a connection, without its HTTP-only parts.
 */
export function compileRule(rule: Rule, site: CompileSite, principalsIndexed = false, connection = false): CompiledMatcher {
  // From, to, when: in this order, so the first invalid field is the one reported.
  const implied = principalsIndexed && isSet(rule.from) && onlyExactPrincipals(rule.from);
  const parts: Matcher[] = [];
  const source = connection ? connectionSourceParts : sourceParts;
  const operation = connection ? connectionOperationParts : operationParts;
  if (implied) checkPrincipals(rule.from!, at(site, 'from'));
  else if (isSet(rule.from)) entries(rule.from, at(site, 'from'), parts, source);
  if (isSet(rule.to)) entries(rule.to, at(site, 'to'), parts, operation);
  if (isSet(rule.when)) {
    const when = at(site, 'when');
    for (let i = 0; i < rule.when.length; i += 1) {
      const condition = rule.when[i]!;
      if (!(connection && isHttpOnlyConditionKey(condition.key))) parts.push(compileCondition(condition, indexed(when, i)));
    }
  }
  return { matcher: site.shared.and(parts), principalImplied: implied };
}

/** Entries OR-ed; a lone entry's fields go straight into the rule's AND (the usual case). */
function entries<E>(list: readonly E[], site: CompileSite, parts: Matcher[], partsOf: (entry: E, site: CompileSite, into: Matcher[]) => void): void {
  if (list.length === 1) return partsOf(list[0]!, indexed(site, 0), parts);
  parts.push(
    or(list.map((entry, i) => {
      const own: Matcher[] = [];
      partsOf(entry, indexed(site, i), own);
      return and(own);
    })),
  );
}

/** What compiling `principals` would check and record, without building its matcher. */
function checkPrincipals(from: readonly Source[], site: CompileSite): void {
  for (let i = 0; i < from.length; i += 1) {
    try {
      const patterns = from[i]!.principals!;
      for (let j = 0; j < patterns.length; j += 1) site.shared.principal(patterns[j]!);
    } catch (error) {
      // The field is spelled out only for the error, as compileSource would name it.
      build(at(at(indexed(site, i), 'source'), 'principals'), () => {
        throw error;
      });
    }
  }
  site.reads.add('source.principal');
}

type OtherSourceField = Exclude<keyof Source, 'principals'>;
// A Record literal must name every key: a new Source field cannot be forgotten here.
const OTHER_SOURCE_FIELDS = Object.freeze(
  Object.keys({
    notPrincipals: true, requestPrincipals: true, notRequestPrincipals: true, namespaces: true, notNamespaces: true,
    ipBlocks: true, notIpBlocks: true, remoteIpBlocks: true, notRemoteIpBlocks: true,
  } satisfies Record<OtherSourceField, true>) as OtherSourceField[],
);

function onlyExactPrincipals(from: readonly Source[]): boolean {
  // Indexed loops: this runs per rule, before the optimizer has had a look at it.
  for (let i = 0; i < from.length; i += 1) {
    const source = from[i]!;
    const patterns = source.principals;
    if (!isSet(patterns)) return false;
    for (let j = 0; j < patterns.length; j += 1) if (patterns[j]!.includes('*')) return false;
    for (let j = 0; j < OTHER_SOURCE_FIELDS.length; j += 1) if (isSet(source[OTHER_SOURCE_FIELDS[j]!])) return false;
  }
  return true;
}

type Build = (values: readonly string[], site: CompileSite) => Matcher;

/**
 * The positive field and its `notX` twin, each only when set; one matcher per distinct
 * (field, values) in the compile (SharedMatchers), the twin wrapped in `not`.
 */
function pair(
  parts: Matcher[],
  site: CompileSite,
  name: string,
  notName: string,
  positive: readonly string[] | undefined,
  negative: readonly string[] | undefined,
  read: RequestAttribute,
  make: Build,
): void {
  if (isSet(positive)) parts.push(site.shared.field(make, positive, site, name, make));
  if (isSet(negative)) parts.push(not(site.shared.field(make, negative, site, notName, make)));
  if (isSet(positive) || isSet(negative)) site.reads.add(read);
}

const principals: Build = (v, s) =>
  new field.StringField(field.readSourcePrincipal, build(s, () => compileStringSet(v.map((p) => s.shared.principal(p)))));
const requestPrincipals: Build = (v, s) => new field.StringField(field.readRequestPrincipal, build(s, () => compileStringSet(v)));
const namespaces: Build = (v, s) => new field.StringField(field.readSourceNamespace, build(s, () => compileStringSet(v)));
const sourceIps: Build = (v, s) => new field.IpField(field.readSourceIp, build(s, () => compileCidrs(v)));

const sourceParts = (source: Source, site: CompileSite, parts: Matcher[]) => sourceFields(source, site, parts, true);
const connectionSourceParts = (source: Source, site: CompileSite, parts: Matcher[]) => sourceFields(source, site, parts, false);

/** `http`: with the request principals, which only an HTTP request has. */
function sourceFields(source: Source, site: CompileSite, parts: Matcher[], http: boolean): void {
  const s = at(site, 'source');
  pair(parts, s, 'principals', 'notPrincipals', source.principals, source.notPrincipals, 'source.principal', principals);
  if (http) pair(parts, s, 'requestPrincipals', 'notRequestPrincipals', source.requestPrincipals, source.notRequestPrincipals, 'request.auth.principal', requestPrincipals);
  pair(parts, s, 'namespaces', 'notNamespaces', source.namespaces, source.notNamespaces, 'source.namespace', namespaces);
  pair(parts, s, 'ipBlocks', 'notIpBlocks', source.ipBlocks, source.notIpBlocks, 'source.ip', sourceIps);
  pair(parts, s, 'remoteIpBlocks', 'notRemoteIpBlocks', source.remoteIpBlocks, source.notRemoteIpBlocks, 'source.ip', sourceIps);
}

const hosts: Build = (v, s) => new field.StringField(field.readHost, build(s, () => compileStringSet(v.map((h) => h.toLowerCase()))));
const ports: Build = (v, s) => new field.PortField(build(s, () => compilePorts(v)));
const methods: Build = (v, s) => new field.StringField(field.readMethod, build(s, () => compileStringSet(v)));
const paths: Build = (v, s) => new field.StringField(field.readPath, build(s, () => new PathSetMatcher(v)));

const operationParts = (operation: Operation, site: CompileSite, parts: Matcher[]) => operationFields(operation, site, parts, true);
const connectionOperationParts = (operation: Operation, site: CompileSite, parts: Matcher[]) => operationFields(operation, site, parts, false);

/** `http`: with hosts, methods and paths, which only an HTTP request has (a connection has its port). */
function operationFields(operation: Operation, site: CompileSite, parts: Matcher[], http: boolean): void {
  const o = at(site, 'operation');
  if (http) pair(parts, o, 'hosts', 'notHosts', operation.hosts, operation.notHosts, 'host', hosts);
  pair(parts, o, 'ports', 'notPorts', operation.ports, operation.notPorts, 'destination.port', ports);
  if (!http) return;
  pair(parts, o, 'methods', 'notMethods', operation.methods, operation.notMethods, 'method', methods);
  pair(parts, o, 'paths', 'notPaths', operation.paths, operation.notPaths, 'path', paths);
}
