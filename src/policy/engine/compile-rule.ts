/**
 * One rule → one Matcher, with DESIGN's semantics: values OR-ed within a field, fields
 * AND-ed, `from` entries OR-ed, `to` entries OR-ed, from/to/when AND-ed, `notX` matching
 * when no value does. Unset or empty fields constrain nothing.
 */
import type { Operation, Rule, Source } from '../model.js';
import { at, build, indexed, isSet, type CompileSite } from './compile-site.js';
import { compileCondition, compilePorts } from './compile-condition.js';
import { compileCidrs } from './matchers/cidr-match.js';
import * as field from './matchers/field-matchers.js';
import { ALWAYS, and, not, or, type Matcher } from './matchers/matcher.js';
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

/** `principalsIndexed`: the caller files rules by exact principal, so `from` may be left to it. */
export function compileRule(rule: Rule, site: CompileSite, principalsIndexed = false): CompiledMatcher {
  // From, to, when: in this order, so the first invalid field is the one reported.
  const implied = principalsIndexed && isSet(rule.from) && onlyExactPrincipals(rule.from);
  const parts: Matcher[] = [];
  if (implied) checkPrincipals(rule.from!, at(site, 'from'));
  else if (isSet(rule.from)) parts.push(or(rule.from.map((s, i) => compileSource(s, indexed(at(site, 'from'), i)))));
  if (isSet(rule.to)) parts.push(or(rule.to.map((o, i) => compileOperation(o, indexed(at(site, 'to'), i)))));
  if (isSet(rule.when)) parts.push(...rule.when.map((c, i) => compileCondition(c, indexed(at(site, 'when'), i))));
  return { matcher: site.shared.and(parts), principalImplied: implied };
}

/** What compiling `principals` would check and record, without building its matcher. */
function checkPrincipals(from: readonly Source[], site: CompileSite): void {
  for (let i = 0; i < from.length; i += 1) {
    try {
      for (const pattern of from[i]!.principals!) site.shared.principal(pattern);
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
  return from.every((source) => {
    if (!isSet(source.principals) || source.principals.some((p) => p.includes('*'))) return false;
    return OTHER_SOURCE_FIELDS.every((name) => !isSet(source[name]));
  });
}

type Build = (values: readonly string[], site: CompileSite) => Matcher;

/**
 * The positive field and its `notX` twin, each only when set; one matcher per distinct
 * (field, values) in the compile (SharedMatchers), the twin wrapped in `not`.
 */
function pair(
  parts: Matcher[],
  site: CompileSite,
  names: readonly [string, string],
  values: readonly [readonly string[] | undefined, readonly string[] | undefined],
  read: RequestAttribute,
  make: Build,
): void {
  const [positive, negative] = values;
  if (isSet(positive)) parts.push(site.shared.field(make, positive, site, names[0], make));
  if (isSet(negative)) parts.push(not(site.shared.field(make, negative, site, names[1], make)));
  if (isSet(positive) || isSet(negative)) site.reads.add(read);
}

const principals: Build = (v, s) =>
  new field.StringField(field.readSourcePrincipal, build(s, () => compileStringSet(v.map((p) => s.shared.principal(p)))));
const requestPrincipals: Build = (v, s) => new field.StringField(field.readRequestPrincipal, build(s, () => compileStringSet(v)));
const namespaces: Build = (v, s) => new field.StringField(field.readSourceNamespace, build(s, () => compileStringSet(v)));
const sourceIps: Build = (v, s) => new field.IpField(field.readSourceIp, build(s, () => compileCidrs(v)));

function compileSource(source: Source, site: CompileSite): Matcher {
  const s = at(site, 'source');
  const parts: Matcher[] = [];
  pair(parts, s, ['principals', 'notPrincipals'], [source.principals, source.notPrincipals], 'source.principal', principals);
  pair(parts, s, ['requestPrincipals', 'notRequestPrincipals'], [source.requestPrincipals, source.notRequestPrincipals], 'request.auth.principal', requestPrincipals);
  pair(parts, s, ['namespaces', 'notNamespaces'], [source.namespaces, source.notNamespaces], 'source.namespace', namespaces);
  pair(parts, s, ['ipBlocks', 'notIpBlocks'], [source.ipBlocks, source.notIpBlocks], 'source.ip', sourceIps);
  pair(parts, s, ['remoteIpBlocks', 'notRemoteIpBlocks'], [source.remoteIpBlocks, source.notRemoteIpBlocks], 'source.ip', sourceIps);
  return parts.length === 0 ? ALWAYS : and(parts);
}

const hosts: Build = (v, s) => new field.StringField(field.readHost, build(s, () => compileStringSet(v.map((h) => h.toLowerCase()))));
const ports: Build = (v, s) => new field.PortField(build(s, () => compilePorts(v)));
const methods: Build = (v, s) => new field.StringField(field.readMethod, build(s, () => compileStringSet(v)));
const paths: Build = (v, s) => new field.StringField(field.readPath, build(s, () => new PathSetMatcher(v)));

function compileOperation(operation: Operation, site: CompileSite): Matcher {
  const o = at(site, 'operation');
  const parts: Matcher[] = [];
  pair(parts, o, ['hosts', 'notHosts'], [operation.hosts, operation.notHosts], 'host', hosts);
  pair(parts, o, ['ports', 'notPorts'], [operation.ports, operation.notPorts], 'destination.port', ports);
  pair(parts, o, ['methods', 'notMethods'], [operation.methods, operation.notMethods], 'method', methods);
  pair(parts, o, ['paths', 'notPaths'], [operation.paths, operation.notPaths], 'path', paths);
  return parts.length === 0 ? ALWAYS : and(parts);
}
