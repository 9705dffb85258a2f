/**
 * Shadow evaluation: a candidate policy set judged beside the enforced one on every
 * request. It never changes the answer; disagreements are reported for the operator to read
 * before the candidate is enforced.
 */
import type { AccessRequest, Decision, PolicyRef, Subject } from '../domain/index.js';
import type { Evaluation } from '../policy/index.js';
import type { EvaluationObserver, SnapshotSource } from './authorizer.js';

export interface ShadowDisagreement {
  readonly enforced: 'allow' | 'deny';
  readonly shadow: 'allow' | 'deny';
  readonly shadowBy?: PolicyRef;
  readonly decision: Decision;
  readonly subject: Subject;
  readonly request: AccessRequest;
}

export function createShadowObserver(
  shadow: SnapshotSource,
  onDisagreement: (disagreement: ShadowDisagreement) => void,
): EvaluationObserver {
  return (subject, request, evaluation, decision) => {
    const snapshot = shadow.current;
    if (snapshot === undefined) return;
    const candidate = shadowEvaluation(snapshot.tree, subject, request);
    if (candidate.effect === evaluation.effect) return;
    onDisagreement({
      enforced: evaluation.effect,
      shadow: candidate.effect,
      ...(candidate.by ? { shadowBy: candidate.by } : {}),
      decision,
      subject,
      request,
    });
  };
}

/** A shadow tree that fails counts as a deny, as it would if enforced. */
function shadowEvaluation(
  tree: { evaluate(subject: Subject, request: AccessRequest): Evaluation },
  subject: Subject,
  request: AccessRequest,
): Pick<Evaluation, 'effect' | 'by'> {
  try {
    return tree.evaluate(subject, request);
  } catch {
    return { effect: 'deny' };
  }
}
