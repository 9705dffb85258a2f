/**
 * Runs test cases through a compiled DecisionTree and compares each outcome with what the
 * case expects; only the fields a case names are compared (a case that says `allow` passes
 * whichever policy allowed).
 */
import type { Evaluator, PolicyReason } from '../policy/index.js';
import type { Expectation, TestCase } from './test-cases.js';

/** What the engine answered, in the vocabulary of an expectation. */
export interface Outcome {
  readonly decision: 'allow' | 'deny';
  readonly reason: PolicyReason;
  readonly policy?: string;
  readonly rule?: number;
  /** What dry-run policies would have done; absent when none applied. */
  readonly dryRun?: 'allow' | 'deny';
  readonly dryRunPolicy?: string;
}

export type ExpectedField = keyof Expectation;

export interface CaseResult {
  readonly case: TestCase;
  readonly actual: Outcome;
  /** Fields whose expected and actual values differ; empty when the case passed. */
  readonly mismatches: readonly ExpectedField[];
}

export interface RunResult {
  readonly results: readonly CaseResult[];
  readonly passed: number;
  readonly failed: number;
}

const FIELDS: readonly ExpectedField[] = ['decision', 'reason', 'policy', 'rule', 'dryRun'];

export function runCases(evaluator: Evaluator, cases: readonly TestCase[]): RunResult {
  const results = cases.map((c) => runCase(evaluator, c));
  const failed = results.filter((r) => r.mismatches.length > 0).length;
  return { results, passed: results.length - failed, failed };
}

export function runCase(evaluator: Evaluator, testCase: TestCase): CaseResult {
  const evaluation = evaluator.evaluate(testCase.subject, testCase.request);
  const actual: Outcome = {
    decision: evaluation.effect,
    reason: evaluation.reason,
    ...(evaluation.by ? { policy: evaluation.by.policy, rule: evaluation.by.rule } : {}),
    ...(evaluation.dryRun ? { dryRun: evaluation.dryRun.verdict, dryRunPolicy: evaluation.dryRun.by?.policy } : {}),
  };
  const mismatches = FIELDS.filter((field) => testCase.expect[field] !== undefined && testCase.expect[field] !== actual[field]);
  return { case: testCase, actual, mismatches };
}
