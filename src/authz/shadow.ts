/**
 * Shadow evaluation: a candidate policy set judged beside the enforced one on every
 * request. It never changes the answer; disagreements are reported for the operator to read
 * before the candidate is enforced.
 */
import type { AccessRequest, Decision, PolicyRef, Subject } from '../domain/index.js';
import type { Destination, Evaluation, Evaluator } from '../policy/index.js';
import type { EvaluationObserver, SnapshotSource } from './authorizer.js';

export interface ShadowDisagreement {
  readonly enforced: 'allow' | 'deny';
  readonly shadow: 'allow' | 'deny';
  readonly shadowBy?: PolicyRef;
  readonly decision: Decision;
  readonly subject: Subject;
  readonly request: AccessRequest;
  /** The destination service the Check resolved; absent when the request names none. */
  readonly destination?: string;
}

export function createShadowObserver(
  shadow: SnapshotSource,
  onDisagreement: (disagreement: ShadowDisagreement) => void,
): EvaluationObserver {
  return (subject, request, evaluation, decision, destination) => {
    const snapshot = shadow.current;
    if (snapshot === undefined) return;
    const candidate = shadowEvaluation(snapshot.tree, subject, request, destination);
    if (candidate.effect === evaluation.effect) return;
    onDisagreement({
      enforced: evaluation.effect,
      shadow: candidate.effect,
      ...(candidate.by ? { shadowBy: candidate.by } : {}),
      decision,
      subject,
      request,
      ...(destination.service === undefined ? {} : { destination: destination.service }),
    });
  };
}

/** A shadow tree that fails counts as a deny, as it would if enforced. */
function shadowEvaluation(tree: Evaluator, subject: Subject, request: AccessRequest, destination: Destination): Pick<Evaluation, 'effect' | 'by'> {
  try {
    return tree.evaluate(subject, request, destination);
  } catch {
    return { effect: 'deny' };
  }
}
