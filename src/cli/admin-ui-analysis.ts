/**
 * The live map's what-if (admin.ui), answered as `meshwarden explain` answers: the request read
 * as explain reads a request file, evaluated against the snapshot in service by the compiled
 * tree (the engine that enforces), checked against the reference trace (without explain's
 * validating compile: the snapshot was validated when it was loaded). Its answer names
 * policies and rules and says which matched; it never quotes what a rule says.
 */
import type { PolicySnapshot } from '../policy/index.js';
import type { UiAnalysis, UiAnswer } from '../server/index.js';
import { explainServedRequest, parseRequestText, WorkflowError, type Explanation, type RequestInput } from '../workflow/index.js';

/** What the page calls the request in an error (`what-if:2:5: ...`). */
const SOURCE_NAME = 'what-if';

export function createUiAnalysis(): UiAnalysis {
  return { whatIf };
}

function whatIf(snapshot: PolicySnapshot, text: string): UiAnswer {
  let input: RequestInput;
  try {
    input = parseRequestText(text, SOURCE_NAME);
  } catch (error) {
    if (error instanceof WorkflowError) return { ok: false, message: error.message };
    throw error;
  }
  const explanation = explainServedRequest(snapshot, input.subject, input.request);
  return { ok: true, answer: { generation: snapshot.generation, form: input.form, caller: input.subject.workload?.uri ?? null, ...summary(explanation) } };
}

/**
 * Names, effects and rule numbers; the trace's clause-by-clause failures stay out (they quote the
 * rules), and so do policies that do not apply to the destination: at 100,000 rules, listing all
 * 20,000 made every answer about 2 MB, and named every other service's policies.
 */
function summary({ trace, decision }: Explanation): object {
  return {
    destination: trace.destination,
    decision,
    policies: trace.policies.filter((policy) => policy.applies).map((policy) => ({
      name: policy.id,
      action: policy.action,
      mode: policy.mode,
      applies: policy.applies,
      matchedRules: policy.rules.filter((rule) => rule.matched).map((rule) => rule.index),
    })),
    engine: 'decision-tree',
  };
}
