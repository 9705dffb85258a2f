import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { describe, expect, test } from 'vitest';
import { POLICY_SCHEMA_URL } from '../../../src/policy/load/index.js';

const schema = JSON.parse(readFileSync(POLICY_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
const documents = (name: string): unknown[] =>
  parseAllDocuments(readFileSync(new URL(`../../fixtures/policies/${name}`, import.meta.url), 'utf8')).map((d) => d.toJS() as unknown);

// What an editor does with the published file: compile it whole, validate a document.
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

describe('the published JSON schema', () => {
  test('is draft-07 with an $id, as yaml-language-server expects', () => {
    expect(schema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema['$id']).toBe('https://meshwarden.io/schema/policy.schema.json');
  });

  test.each([
    ['native/payments.yaml'],
    ['native/payments.json'],
    ['istio/bookinfo.yaml'],
  ])('accepts every document of %s', (name) => {
    for (const doc of documents(name)) expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  });

  test.each([
    { what: 'an unknown field', doc: { apiVersion: 'meshwarden.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p' }, spec: { acton: 'DENY' } } },
    { what: 'an Istio-only field in a native policy', doc: { apiVersion: 'meshwarden.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p' }, spec: { selector: {} } } },
    { what: 'a native-only field in an Istio policy', doc: { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p' }, spec: { mode: 'dry-run' } } },
    { what: 'an unknown apiVersion', doc: { apiVersion: 'v1', kind: 'AuthorizationPolicy' } },
    { what: 'a missing name', doc: { apiVersion: 'meshwarden.io/v1', kind: 'AuthorizationPolicy', metadata: {} } },
  ])('rejects $what', ({ doc }) => {
    expect(validate(doc)).toBe(false);
  });

  test('describes every field an author writes', () => {
    const definitions = schema['definitions'] as Record<string, { properties?: Record<string, { description?: string }> }>;
    for (const name of ['source', 'operation', 'condition', 'rule']) {
      for (const [field, property] of Object.entries(definitions[name]!.properties ?? {})) {
        expect(property.description, `${name}.${field}`).toMatch(/\w/);
      }
    }
  });
});
