/**
 * DecisionTree micro benchmark: compile time, heap per rule, and per-evaluation median
 * and p99, for the tree and the naive reference evaluator, at 10 / 1,000 / 10,000 /
 * 100,000 rules. Run: NODE_OPTIONS=--expose-gc npx vitest bench --run bench/tree-eval.bench.ts
 * (without --expose-gc the heap figure is approximate). The figures print as a table
 * before vitest's own benchmark of the 100,000-rule tree.
 */
import { bench, describe } from 'vitest';
import { compileTree, referenceEvaluate } from '../src/policy/engine/index.js';
import type { EngineOptions } from '../src/policy/model.js';
import { gcHeap, hasGc, timeEach } from './lib/measure.js';
import { generatePolicies, generateRequests, workloadFor } from './lib/policy-set.js';

const OPTIONS: EngineOptions = { defaultAction: 'DENY', rootNamespace: 'istio-system' };
const SIZES = (process.env.BENCH_SIZES ?? "10,1000,10000,100000").split(",").map(Number);
const TREE_ITERATIONS = 200_000;
const REFERENCE_ITERATIONS = (rules: number) => Math.max(50, Math.min(20_000, Math.round(2e7 / rules)));

function measure(rules: number) {
  const workload = workloadFor(rules);
  const policies = generatePolicies(workload);
  const cases = generateRequests(policies, workload, 5_000);
  const heapBefore = gcHeap();
  const started = performance.now();
  const tree = compileTree(policies, OPTIONS);
  const compileMs = performance.now() - started;
  const heapPerRule = (gcHeap() - heapBefore) / tree.stats.rules;
  timeEach(cases, 20_000, (c) => tree.evaluate(c.subject, c.request)); // warm-up
  const fromTree = timeEach(cases, TREE_ITERATIONS, (c) => tree.evaluate(c.subject, c.request));
  const refIterations = REFERENCE_ITERATIONS(tree.stats.rules);
  timeEach(cases, Math.min(refIterations, 200), (c) => referenceEvaluate(policies, OPTIONS, c.subject, c.request));
  const fromReference = timeEach(cases, refIterations, (c) => referenceEvaluate(policies, OPTIONS, c.subject, c.request));
  const allowed = cases.filter((c) => tree.evaluate(c.subject, c.request).effect === 'allow').length / cases.length;
  return {
    rules: tree.stats.rules,
    policies: tree.stats.policies,
    'compile ms': round(compileMs),
    'heap B/rule': Math.round(heapPerRule),
    'tree median µs': round(fromTree.medianNs / 1000, 3),
    'tree p99 µs': round(fromTree.p99Ns / 1000, 3),
    'ref median µs': round(fromReference.medianNs / 1000, 1),
    'ref p99 µs': round(fromReference.p99Ns / 1000, 1),
    'ref samples': refIterations,
    'allow %': round(allowed * 100, 1),
  };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const table = SIZES.map(measure);
console.log(`\nDecisionTree vs reference (gc exposed: ${hasGc()})`);
console.table(table);

describe('DecisionTree.evaluate, 100,000 rules', () => {
  const workload = workloadFor(100_000);
  const policies = generatePolicies(workload);
  const tree = compileTree(policies, OPTIONS);
  const cases = generateRequests(policies, workload, 5_000);
  let i = 0;
  bench('evaluate', () => {
    const c = cases[i++ % cases.length]!;
    tree.evaluate(c.subject, c.request);
  });
});
