/**
 * `explain`'s evaluation: the compiled DecisionTree decides, as the server would, and the
 * reference trace says why. The two must agree; when they do not, the trace cannot be trusted
 * and explain stops (WorkflowError `engines_disagree`) rather than show a reason for a decision
 * the server would not make.
 */
import type { AccessRequest, Subject } from '../domain/index.js';
import { explain, traceExplanation, type Evaluation, type Evaluator, type ExplainTrace } from '../policy/index.js';
import type { PolicySet } from './policy-set.js';
import { WorkflowError } from './workflow-error.js';

export interface Explanation {
  /** The reference trace, its evaluation the tree's (the same, or explain would have stopped). */
  readonly trace: ExplainTrace;
  /** What the compiled tree, the engine that enforces, decided. */
  readonly decision: Evaluation;
}

/** `tree` is the set's own; tests pass another to see a disagreement reported. */
export function explainRequest(set: PolicySet, subject: Subject, request: AccessRequest, tree: Evaluator = set.tree): Explanation {
  return agreed(explain(set.policies, set.options, subject, request), tree.evaluate(subject, request));
}

/**
 * The same explanation for a set the server already compiled and serves (the admin what-if):
 * without explain's validating compile of the whole set, which at 100,000 rules takes about a
 * second of the thread that answers Checks.
 */
export function explainServedRequest(set: PolicySet, subject: Subject, request: AccessRequest): Explanation {
  return agreed(traceExplanation(set.policies, set.options, subject, request), set.tree.evaluate(subject, request));
}

function agreed(trace: ExplainTrace, decision: Evaluation): Explanation {
  const [enforced, reference] = [outcomeOf(decision), outcomeOf(trace.evaluation)];
  if (enforced !== reference) {
    throw new WorkflowError(
      'engines_disagree',
      `the compiled decision tree (the engine that enforces) decided ${enforced}, but the reference trace decided ${reference}: ` +
        'the trace cannot be trusted for this request. This is a bug in meshwarden: please report it with the policies and the request.',
    );
  }
  return { trace: { ...trace, evaluation: decision }, decision };
}

/** Everything an evaluation says, in one comparable line. */
function outcomeOf(e: Evaluation): string {
  const ref = (by: { readonly policy: string; readonly rule?: number } | undefined) => (by === undefined ? '' : ` by ${by.policy} rules[${by.rule ?? '?'}]`);
  const parts = [`${e.effect} (${e.reason}${ref(e.by)})`];
  if (e.audit !== undefined) parts.push(`audit${ref(e.audit)}`);
  if (e.dryRun !== undefined) parts.push(`dry-run ${e.dryRun.verdict}${ref(e.dryRun.by)}`);
  return parts.join(', ');
}
