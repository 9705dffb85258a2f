/**
 * JSON Schemas of the hand-written inputs: an AccessRequest in YAML, a Subject, and a
 * test-cases file. Compiled once, on first use; errors go through the policy loader's
 * schemaIssues so a case file gets the same messages ("did you mean …?") as a policy.
 */
import { Ajv, type ValidateFunction } from 'ajv';

const STRING = { type: 'string' } as const;
const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

const PEER = {
  type: 'object',
  additionalProperties: false,
  properties: {
    principal: STRING,
    address: STRING,
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
} as const;

export const REQUEST_SCHEMA = {
  type: 'object',
  description: 'an AccessRequest: method, path, host, headers, body, contentType, source, destination, contextExtensions, sni',
  additionalProperties: false,
  required: ['method', 'path'],
  properties: {
    requestId: STRING,
    method: { type: 'string', minLength: 1 },
    path: { type: 'string', minLength: 1 },
    host: STRING,
    scheme: STRING,
    protocol: STRING,
    headers: STRING_MAP,
    /** Text as written, or any other JSON value, sent as its JSON text. */
    body: { anyOf: [{ type: 'string' }, { type: 'object' }, { type: 'array' }, { type: 'number' }, { type: 'boolean' }] },
    contentType: { type: 'string', minLength: 1 },
    source: PEER,
    destination: PEER,
    contextExtensions: STRING_MAP,
    sni: STRING,
  },
} as const;

export const SUBJECT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    principal: { type: 'string', minLength: 1 },
    user: {
      type: 'object',
      additionalProperties: false,
      required: ['issuer', 'subject'],
      properties: {
        issuer: { type: 'string', minLength: 1 },
        subject: { type: 'string', minLength: 1 },
        audiences: { type: 'array', items: STRING },
        claims: { type: 'object' },
      },
    },
  },
} as const;

const DECISION = { type: 'string', enum: ['allow', 'deny'] } as const;

const CASE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'request', 'expect'],
  properties: {
    name: { type: 'string', minLength: 1 },
    request: REQUEST_SCHEMA,
    subject: SUBJECT_SCHEMA,
    expect: {
      type: 'object',
      additionalProperties: false,
      required: ['decision'],
      properties: {
        decision: DECISION,
        policy: { type: 'string', minLength: 1 },
        rule: { type: 'integer', minimum: 0 },
        reason: { type: 'string', enum: ['policy_allow', 'policy_deny', 'default_allow', 'default_deny'] },
        dryRun: DECISION,
      },
    },
  },
} as const;

export const CASES_SCHEMA = { type: 'array', items: CASE_SCHEMA } as const;

export interface WorkflowValidators {
  readonly request: ValidateFunction;
  readonly cases: ValidateFunction;
}

let compiled: WorkflowValidators | undefined;

export function workflowValidators(): WorkflowValidators {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    compiled = Object.freeze({ request: ajv.compile(REQUEST_SCHEMA), cases: ajv.compile(CASES_SCHEMA) });
  }
  return compiled;
}
