/** Turns ajv's errors into issues with our codes and messages a policy author can act on. */
import type { ErrorObject } from 'ajv';
import { parseJsonPointer, closestName } from '../../lib/index.js';
import { issue, type Issue } from './issue.js';

/**
 * Fields of Istio's AuthorizationPolicy that meshwarden does not implement: named, so the
 * author learns it is a known gap and not a typo.
 */
const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
  serviceAccounts: 'write principals: ["*/ns/NS/sa/SA"] instead',
  notServiceAccounts: 'write notPrincipals: ["*/ns/NS/sa/SA"] instead',
};

export function schemaIssues(errors: readonly ErrorObject[], data: unknown): Issue[] {
  return withoutOneOfBranches(errors).map((e) => schemaIssue(e, data));
}

/**
 * A value that fits none of the shapes of a `oneOf` gets one issue (the `oneOf`'s, which
 * names every accepted shape in its description), not one per shape it failed.
 */
function withoutOneOfBranches(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  const branches = errors.filter((e) => e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  if (branches.length === 0) return errors;
  return errors.filter((e) => !branches.some((prefix) => e.schemaPath.startsWith(prefix)));
}

function schemaIssue(e: ErrorObject, data: unknown): Issue {
  const path = parseJsonPointer(e.instancePath, data);
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownField(path, String(e.params['additionalProperty']), e.parentSchema);
    case 'required': {
      const field = String(e.params['missingProperty']);
      return issue('missing_field', [...path, field], `missing required field "${field}"`);
    }
    case 'type':
      return issue('wrong_type', path, `must be ${typeName(e.params['type'])}, not ${describe(e.data)}`);
    case 'enum':
    case 'const':
      return issue('invalid_value', path, `${describe(e.data)} is not one of ${allowed(e)}`);
    case 'minItems':
      return issue('empty_value', path, 'must not be an empty list: leave the field out, or list at least one value');
    case 'minProperties':
      return issue('empty_value', path, 'must not be empty: an empty entry is ambiguous, name at least one field');
    case 'minLength':
      return issue('empty_value', path, 'must not be an empty string');
    case 'dependencies': {
      const [field, needs] = [String(e.params['property']), String(e.params['missingProperty'])];
      return issue('missing_field', [...path, field], `"${field}" needs "${needs}" alongside it`, 'key');
    }
    default:
      return issue('invalid_value', path, `${describe(e.data)} is not valid: ${description(e) ?? e.message ?? ''}`);
  }
}

function unknownField(path: readonly (string | number)[], name: string, parentSchema: unknown): Issue {
  const at = [...path, name];
  const hint = UNSUPPORTED_FIELDS[name];
  if (hint !== undefined) {
    return issue('unsupported_field', at, `"${name}" is not supported by meshwarden: ${hint}`, 'key');
  }
  const known = Object.keys((parentSchema as { properties?: object } | undefined)?.properties ?? {});
  const guess = closestName(name, known);
  const suggestion = guess === undefined ? '' : `; did you mean "${guess}"?`;
  return issue('unknown_field', at, `unknown field "${name}"${suggestion}`, 'key');
}

function allowed(e: ErrorObject): string {
  const values = e.keyword === 'const' ? [e.params['allowedValue']] : (e.params['allowedValues'] as unknown[]);
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function description(e: ErrorObject): string | undefined {
  const d = (e.parentSchema as { description?: unknown } | undefined)?.description;
  return typeof d === 'string' ? d : undefined;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  null: 'null',
};

function typeName(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(' or ');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}
