/**
 * DecisionTree vs the reference evaluator at one policy size: compile time, heap per rule,
 * per-evaluation median and p99 (moved here from tree-eval.bench.ts so the suite and the
 * vitest bench share it). One call is one round; the suite interleaves rounds and sizes.
 */
import { compileTree, referenceEvaluate, type DecisionTree } from '../../src/policy/engine/index.js';
import type { EngineOptions, Policy } from '../../src/policy/model.js';
import { gcHeap, timeEach } from '../lib/measure.js';
import { generatePolicies, generateRequests, workloadFor, type Case } from '../lib/policy-set.js';

export const ENGINE_OPTIONS: EngineOptions = { defaultAction: 'DENY', rootNamespace: 'istio-system' };

export interface TreeFixture {
  readonly rules: number;
  readonly policies: readonly Policy[];
  readonly cases: readonly Case[];
}

export interface TreeRound {
  readonly rules: number;
  readonly compileMs: number;
  /** Heap growth of keeping the tree, per rule (only meaningful with --expose-gc). */
  readonly heapBytesPerRule: number;
  readonly treeMedianNs: number;
  readonly treeP99Ns: number;
  readonly referenceMedianNs: number;
  readonly referenceP99Ns: number;
  readonly referenceSamples: number;
  readonly allowShare: number;
}

export function treeFixture(rules: number): TreeFixture {
  const workload = workloadFor(rules);
  const policies = generatePolicies(workload);
  return { rules, policies, cases: generateRequests(policies, workload, 5_000) };
}

/** Reference samples shrink with size: it walks every rule, ~ms per call at 100k. */
export function referenceIterations(rules: number, scale = 1): number {
  return Math.max(20, Math.round(Math.min(20_000, 2e7 / rules) * scale));
}

export function measureTreeRound(fixture: TreeFixture, treeIterations: number, referenceScale = 1): TreeRound {
  const { policies, cases } = fixture;
  const heapBefore = gcHeap();
  const started = performance.now();
  const tree: DecisionTree = compileTree(policies, ENGINE_OPTIONS);
  const compileMs = performance.now() - started;
  const heapBytesPerRule = (gcHeap() - heapBefore) / tree.stats.rules;
  timeEach(cases, Math.min(20_000, treeIterations), (c) => tree.evaluate(c.subject, c.request)); // warm-up
  const fromTree = timeEach(cases, treeIterations, (c) => tree.evaluate(c.subject, c.request));
  const refIterations = referenceIterations(tree.stats.rules, referenceScale);
  const evaluateReference = (c: Case) => referenceEvaluate(policies, ENGINE_OPTIONS, c.subject, c.request);
  timeEach(cases, Math.min(refIterations, 50), evaluateReference);
  const fromReference = timeEach(cases, refIterations, evaluateReference);
  const allowed = cases.filter((c) => tree.evaluate(c.subject, c.request).effect === 'allow').length;
  return {
    rules: tree.stats.rules,
    compileMs,
    heapBytesPerRule,
    treeMedianNs: fromTree.medianNs,
    treeP99Ns: fromTree.p99Ns,
    referenceMedianNs: fromReference.medianNs,
    referenceP99Ns: fromReference.p99Ns,
    referenceSamples: refIterations,
    allowShare: allowed / cases.length,
  };
}
