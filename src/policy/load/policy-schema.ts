/**
 * The published JSON Schema (schema/policy.schema.json) is the one source of truth for the
 * shape of a policy: editors validate with it, and so do we, compiled once per process.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

export const POLICY_SCHEMA_URL = new URL('../../../schema/policy.schema.json', import.meta.url);

const SCHEMA_ID = 'https://meshwarden.io/schema/policy.schema.json';

export interface PolicyValidators {
  readonly native: ValidateFunction;
  readonly istio: ValidateFunction;
}

let compiled: PolicyValidators | undefined;

/** Compiles on first use: loading policies is start-up or reload work, never per request. */
export function policyValidators(): PolicyValidators {
  compiled ??= compile();
  return compiled;
}

export function readPolicySchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(POLICY_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
}

function compile(): PolicyValidators {
  // verbose: errors carry their schema, so messages can name the known fields.
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
  ajv.addSchema(readPolicySchema());
  return Object.freeze({
    native: definition(ajv, 'nativePolicy'),
    istio: definition(ajv, 'istioPolicy'),
  });
}

function definition(ajv: Ajv, name: string): ValidateFunction {
  const validate = ajv.getSchema(`${SCHEMA_ID}#/definitions/${name}`);
  if (validate === undefined) throw new Error(`policy schema has no definition ${name}`);
  return validate;
}
