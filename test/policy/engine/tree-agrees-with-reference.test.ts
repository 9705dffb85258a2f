import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceEvaluate } from '../../../src/policy/engine/index.js';
import { compileTreeWith } from '../../../src/policy/engine/tree/decision-tree.js';
import { engineOptions, policySet, requestArb, subjectArb } from './arbitraries.js';

const RUNS = 500;
const REQUESTS_PER_SET = 20;

// Small lists (the default) and a trie for every path index: both shapes must agree.
describe.each([8, 0])('the DecisionTree with small lists of up to %i rules', (smallList) => {
  it(`decides exactly as the reference evaluator on ${RUNS * REQUESTS_PER_SET} random (policy set, request) pairs, a third of them connections`, () => {
    const seen = { pairs: 0, policyAllow: 0, policyDeny: 0, audit: 0, dryRun: 0, defaultDeny: 0 };
    const connections = { pairs: 0, policyAllow: 0, policyDeny: 0, audit: 0, dryRun: 0, defaultDeny: 0 };
    fc.assert(
      fc.property(
        policySet,
        engineOptions,
        fc.array(fc.tuple(subjectArb, requestArb), { minLength: REQUESTS_PER_SET, maxLength: REQUESTS_PER_SET }),
        (policies, options, cases) => {
          const tree = compileTreeWith(policies, options, { smallList });
          for (const [subject, request] of cases) {
            const actual = tree.evaluate(subject, request);
            expect(actual).toStrictEqual(referenceEvaluate(policies, options, subject, request));
            tally(seen, actual);
            if (request.kind === 'connection') tally(connections, actual);
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(seen.pairs).toBeGreaterThanOrEqual(10_000);
    // The vocabulary is small on purpose: every outcome must occur often, or the comparison proves little.
    for (const count of [seen.policyAllow, seen.policyDeny, seen.audit, seen.dryRun, seen.defaultDeny]) {
      expect(count).toBeGreaterThan(seen.pairs / 100);
    }
    // Connections too, a third of the pairs: their rules differ (HTTP-only parts), so they must decide every way often.
    expect(connections.pairs).toBeGreaterThan(seen.pairs / 4);
    for (const count of [connections.policyAllow, connections.policyDeny, connections.audit, connections.dryRun, connections.defaultDeny]) {
      expect(count).toBeGreaterThan(connections.pairs / 100);
    }
  });
});

function tally(seen: Record<string, number>, evaluation: ReturnType<typeof referenceEvaluate>): void {
  seen.pairs! += 1;
  if (evaluation.reason === 'policy_allow') seen.policyAllow! += 1;
  if (evaluation.reason === 'policy_deny') seen.policyDeny! += 1;
  if (evaluation.reason === 'default_deny') seen.defaultDeny! += 1;
  if (evaluation.audit !== undefined) seen.audit! += 1;
  if (evaluation.dryRun !== undefined) seen.dryRun! += 1;
}
