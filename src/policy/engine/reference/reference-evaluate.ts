/**
 * The naive evaluator: every policy, every rule, in order. Obviously correct and slow;
 * tests hold the DecisionTree to it, and explain traces are its working.
 */
import type { AccessRequest, Subject } from '../../../domain/index.js';
import type { Evaluation } from '../../evaluation.js';
import type { EngineOptions, Policy } from '../../model.js';
import { trace } from './explain.js';

export function referenceEvaluate(
  policies: readonly Policy[],
  options: EngineOptions,
  subject: Subject,
  request: AccessRequest,
): Evaluation {
  return trace(policies, options, subject, request).evaluation;
}
