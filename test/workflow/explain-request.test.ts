// explain shows the decision of the engine that enforces, and stops when the reference trace,
// which says why, would tell another story.
import { describe, expect, test } from 'vitest';
import type { Evaluator } from '../../src/policy/index.js';
import { explainRequest } from '../../src/workflow/explain-request.js';
import { loadPolicySet } from '../../src/workflow/policy-set.js';
import { readRequestFile } from '../../src/workflow/request-file.js';

const OPTIONS = { defaultAction: 'DENY', rootNamespace: 'istio-system' } as const;

describe('explaining a request', () => {
  test('the decision shown is the compiled tree\'s', async () => {
    const set = await loadPolicySet(['examples/policies'], OPTIONS);
    const { subject, request } = await readRequestFile('examples/requests/checkout-creates-charge.yaml');
    let asked = 0;
    const counting: Evaluator = { evaluate: (s, r) => (asked++, set.tree.evaluate(s, r)) };
    const explanation = explainRequest(set, subject, request, counting);
    expect(asked).toBe(1);
    expect(explanation.decision).toMatchObject({ effect: 'allow', reason: 'policy_allow', by: { policy: 'payments-api', rule: 0 } });
    expect(explanation.trace.evaluation).toBe(explanation.decision);
  });

  test('a tree that decides otherwise than the reference trace stops explain, loudly', async () => {
    const set = await loadPolicySet(['examples/policies'], OPTIONS);
    const { subject, request } = await readRequestFile('examples/requests/checkout-creates-charge.yaml');
    const contrary: Evaluator = { evaluate: () => ({ effect: 'deny', reason: 'default_deny' }) };
    expect(() => explainRequest(set, subject, request, contrary)).toThrow(
      expect.objectContaining({
        code: 'engines_disagree',
        message: expect.stringMatching(/decided deny \(default_deny\), but the reference trace decided allow \(policy_allow by payments-api rules\[0\]\).*report/),
      }),
    );
  });

  test('a difference in the dry-run outcome alone is a disagreement too', async () => {
    const set = await loadPolicySet(['examples/policies'], OPTIONS);
    const { subject, request } = await readRequestFile('examples/requests/checkout-creates-charge.yaml');
    const noDryRun: Evaluator = { evaluate: (s, r) => ({ ...set.tree.evaluate(s, r), dryRun: { verdict: 'deny' } }) };
    expect(() => explainRequest(set, subject, request, noDryRun)).toThrow(expect.objectContaining({ code: 'engines_disagree' }));
  });
});
