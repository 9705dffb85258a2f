import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkPolicies, formatCheckResult, formatPolicyError, type CheckResult, type PolicyError } from '../../../src/policy/load/index.js';

const OPTIONS = { rootNamespace: 'istio-system' };
const at = (path: string): string => join(fileURLToPath(new URL('../../fixtures/policies/', import.meta.url)), path);

const ERROR: PolicyError = { code: 'invalid_method', file: 'p.yaml', line: 7, column: 34, field: 'spec.rules[0].to[0].operation.methods[0]', message: '"get" is not an HTTP method' };
const WARNING: PolicyError = { code: 'selector_allow_scoped', file: 'p.yaml', line: 3, column: 3, field: 'spec.selector', message: 'scoped' };

describe('formatPolicyError', () => {
  test.each([
    { e: ERROR, text: 'p.yaml:7:34: "get" is not an HTTP method (spec.rules[0].to[0].operation.methods[0])' },
    { e: { ...ERROR, code: 'read_failed' as const, line: 0, column: 0, field: '', message: 'cannot read' }, text: 'p.yaml: cannot read' },
  ])('writes $text', ({ e, text }) => {
    expect(formatPolicyError(e)).toBe(text);
  });
});

describe('checkPolicies', () => {
  test('a valid set is ok and counts its policies and rules', async () => {
    const result = await checkPolicies([at('native'), at('istio')], OPTIONS);
    expect(result).toMatchObject({ ok: true, errors: [], policyCount: 6, ruleCount: 6 });
    expect(result.warnings).toHaveLength(2);
  });

  test('any error fails the check, and the valid policies are still counted', async () => {
    const result = await checkPolicies([at('invalid'), at('native/payments.json')], OPTIONS);
    expect(result.ok).toBe(false);
    expect(result.policyCount).toBe(1);
    expect(new Set(result.errors.map((e) => e.file))).toEqual(new Set([at('invalid/many-errors.yaml')]));
    expect(result.warnings.map((w) => [w.file, w.code])).toContainEqual([at('invalid/custom.yaml'), 'custom_action_not_applicable']);
  });
});

describe('formatCheckResult', () => {
  const result: CheckResult = { ok: false, errors: [ERROR], warnings: [WARNING], policyCount: 1, ruleCount: 1 };

  test('human output is one line per problem, then a summary', () => {
    expect(formatCheckResult(result, 'human')).toBe(
      [
        'p.yaml:7:34: error: "get" is not an HTTP method (spec.rules[0].to[0].operation.methods[0])',
        'p.yaml:3:3: warning: scoped (spec.selector)',
        'failed: 1 policy, 1 rule; 1 error, 1 warning',
        '',
      ].join('\n'),
    );
  });

  test('an ok set says so', () => {
    expect(formatCheckResult({ ok: true, errors: [], warnings: [], policyCount: 2, ruleCount: 0 }, 'human')).toBe('ok: 2 policies, 0 rules; 0 errors, 0 warnings\n');
  });

  test('JSON output is the result itself, with codes', () => {
    expect(JSON.parse(formatCheckResult(result, 'json'))).toEqual(result);
  });
});
