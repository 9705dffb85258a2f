/**
 * One `when` condition → one Matcher: `values` and `notValues` AND-ed, read from the
 * attribute its key names (chosen by an exhaustive switch over the parsed key); a body
 * field's condition is one BodyCondition, which also answers for a body it could not see.
 */
import { assertNever } from '../../domain/index.js';
import type { Condition } from '../model.js';
import { PatternError } from './compile-error.js';
import { at, build, isSet, type CompileSite } from './compile-site.js';
import { compileCidrs } from './matchers/cidr-match.js';
import { parseConditionKey, type ConditionKey } from './matchers/condition-key.js';
import * as field from './matchers/field-matchers.js';
import { and, not, type Matcher } from './matchers/matcher.js';
import { compileStringSet } from './matchers/string-match.js';
import { BodyCondition } from './matchers/body-condition.js';
import { bodyAttribute, type RequestAttribute } from './request-attribute.js';

export function compileCondition(condition: Condition, site: CompileSite): Matcher {
  const key = site.shared.conditionKey(condition.key, () => build(at(site, 'key'), () => parseConditionKey(condition.key)));
  if (!isSet(condition.values) && !isSet(condition.notValues)) {
    build(site, () => {
      throw new PatternError('ERR_COMPILE_CONDITION_EMPTY', `condition "${condition.key}" has no values or notValues`);
    });
  }
  site.reads.add(conditionRead(key));
  if (key.kind === 'body') return compileBodyCondition(condition, key.path, site);
  const parts: Matcher[] = [];
  // One matcher per distinct (key, values) in a compile: conditions repeat across rules.
  if (isSet(condition.values)) parts.push(site.shared.field(key, condition.values, site, 'values', conditionMatcher));
  if (isSet(condition.notValues)) parts.push(not(site.shared.field(key, condition.notValues, site, 'notValues', conditionMatcher)));
  return and(parts);
}

/** Values and notValues in one matcher: an unseen field decides both at once, by the policy's action. */
function compileBodyCondition(condition: Condition, path: readonly string[], site: CompileSite): Matcher {
  const strings = (values: readonly string[] | undefined, field: string) =>
    isSet(values) ? site.shared.field(BODY_VALUES, values, site, field, (v, s) => build(s, () => compileStringSet(v))) : undefined;
  const values = strings(condition.values, 'values');
  const notValues = strings(condition.notValues, 'notValues');
  return new BodyCondition(site.shared.bodyPaths.add(path), values, notValues, site.action !== 'ALLOW');
}

const BODY_VALUES = Symbol('body values');

function conditionMatcher(values: readonly string[], site: CompileSite, key: Exclude<ConditionKey, { kind: 'body' }>): Matcher {
  const strings = () => build(site, () => compileStringSet(values));
  switch (key.kind) {
    case 'header': return new field.StringField(field.readHeader(key.name), strings());
    case 'claim': return new field.ClaimField(key.path, strings());
    case 'source.ip':
    case 'remote.ip': return new field.IpField(field.readSourceIp, build(site, () => compileCidrs(values)));
    case 'destination.ip': return new field.IpField(field.readDestinationIp, build(site, () => compileCidrs(values)));
    case 'destination.port': return new field.PortField(build(site, () => compilePorts(values)));
    case 'source.namespace': return new field.StringField(field.readSourceNamespace, strings());
    case 'source.principal': return new field.StringField(field.readSourcePrincipal, build(site, () => compileStringSet(values.map((p) => site.shared.principal(p)))));
    case 'request.auth.principal': return new field.StringField(field.readRequestPrincipal, strings());
    case 'request.auth.audiences': return new field.AudienceField(strings());
    case 'request.auth.presenter': return new field.StringField(field.readPresenter, strings());
    case 'connection.sni': return new field.StringField(field.readSni, strings());
    default: return assertNever(key, 'condition key');
  }
}

export function conditionRead(key: ConditionKey): RequestAttribute {
  switch (key.kind) {
    case 'header': return `header:${key.name}`;
    case 'claim': return `claim:${key.path[0]!}`;
    case 'body': return bodyAttribute(key.path);
    case 'remote.ip': return 'source.ip';
    default: return key.kind;
  }
}

/** Port numbers 0–65535 written as decimal text. */
export function compilePorts(values: readonly string[]): ReadonlySet<number> {
  return new Set(values.map(parsePort));
}

export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port <= 65535)) throw new PatternError('ERR_COMPILE_PORT', `"${text}" is not a port number`);
  return port;
}
