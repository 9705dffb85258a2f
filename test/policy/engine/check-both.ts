/** Decides with the DecisionTree and the reference evaluator, and insists they agree. */
import { expect } from 'vitest';
import type { AccessRequest } from '../../../src/domain/access-request.js';
import type { Subject } from '../../../src/domain/subject.js';
import { compileTree, referenceEvaluate } from '../../../src/policy/engine/index.js';
import type { Evaluation } from '../../../src/policy/evaluation.js';
import type { EngineOptions, Policy } from '../../../src/policy/model.js';

export function decide(policies: readonly Policy[], options: EngineOptions, subject: Subject, request: AccessRequest): Evaluation {
  const fromTree = compileTree(policies, options).evaluate(subject, request);
  expect(fromTree).toStrictEqual(referenceEvaluate(policies, options, subject, request));
  return fromTree;
}
