/**
 * A method no HTTP client sends passes as a token and matches nothing: `meshwarden check` and
 * every load warn at its position, with the method most likely meant.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../../src/policy/load/index.js';

const OPTIONS = { rootNamespace: 'istio-system' };

function withOperation(operation: string): string {
  return `apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nspec:\n  rules:\n    - to:\n        - operation: ${operation}\n`;
}

describe('a method no HTTP client sends', () => {
  it('is a warning at its position, with the method most likely meant', () => {
    const result = parsePolicyText(withOperation('{ methods: ["POST", "GTE"] }'), 'p.yaml', OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.policies).toHaveLength(1);
    expect(result.warnings).toEqual([
      {
        code: 'unknown_method',
        file: 'p.yaml',
        line: 7,
        column: 42,
        field: 'spec.rules[0].to[0].operation.methods[1]',
        message: '"GTE" is not a method HTTP clients send, so it matches no request; did you mean "GET"?',
      },
    ]);
  });

  it('in notMethods, says that it leaves out no request', () => {
    const [warning] = parsePolicyText(withOperation('{ notMethods: ["DELTE"] }'), 'p.yaml', OPTIONS).warnings;
    expect(warning?.message).toBe('"DELTE" is not a method HTTP clients send, so it leaves out no request; did you mean "DELETE"?');
  });

  it('offers no guess when nothing is close', () => {
    const [warning] = parsePolicyText(withOperation('{ methods: ["FROBNICATE"] }'), 'p.yaml', OPTIONS).warnings;
    expect(warning?.message).toBe('"FROBNICATE" is not a method HTTP clients send, so it matches no request');
  });

  it.each(['GET', 'PATCH', 'PROPFIND', 'VERSION-CONTROL', 'PURGE'])('is not said of %s, which clients send', (method) => {
    expect(parsePolicyText(withOperation(`{ methods: ["${method}"] }`), 'p.yaml', OPTIONS).warnings).toEqual([]);
  });

  it('is not said again of a lower-case method, which is already an error', () => {
    const result = parsePolicyText(withOperation('{ methods: ["get"] }'), 'p.yaml', OPTIONS);
    expect(result.errors.map((e) => e.code)).toEqual(['invalid_method']);
    expect(result.warnings).toEqual([]);
  });
});
