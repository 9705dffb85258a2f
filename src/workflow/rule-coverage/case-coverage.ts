/** `test --coverage`: which enforced rules the test cases exercised (matched, by the reference trace). */
import type { PolicySet } from '../policy-set.js';
import type { TestCase } from '../test-cases.js';
import { ruleUsage, type RuleUsage } from './rule-usage.js';

export interface CaseCoverage {
  readonly rules: readonly RuleUsage[];
  readonly exercised: number;
  /** 0–100; 100 when there is no rule to exercise. */
  readonly percent: number;
}

export function caseCoverage(set: PolicySet, cases: readonly TestCase[]): CaseCoverage {
  const rules = ruleUsage(set, cases);
  const exercised = rules.filter((r) => r.requests > 0).length;
  return { rules, exercised, percent: rules.length === 0 ? 100 : (100 * exercised) / rules.length };
}
