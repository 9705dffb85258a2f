/**
 * DecisionTree micro benchmark: compile time, heap per rule, and evaluation time, for the
 * tree and the naive reference evaluator, at 10 / 1,000 / 10,000 / 100,000 rules, against
 * the targets (100k-rule median ≤ 2 × the 10-rule median, p99 < 2 µs, ≥ 300 × the
 * reference, compile ≤ 1 s). Run: NODE_OPTIONS=--expose-gc npx vitest bench --run
 * bench/tree-eval.bench.ts (without --expose-gc the heap figure is approximate).
 *
 * Method. One workload for every size: 5,000 requests drawn from the policies' own
 * vocabulary (many services and principals, exact/prefix/template paths, hits and misses),
 * visited in rotation, so caches see a realistic spread. A clock read costs 30–60 ns, as
 * much as an evaluation, so:
 * - median and p99 "batch": 1,000 consecutive evaluations timed together, divided by
 *   1,000; the median and 99th percentile over the batch means;
 * - p99 "per call": each call timed alone, minus the median cost of timing an empty call.
 */
import { bench, describe } from 'vitest';
import { compileTree, referenceEvaluate } from '../src/policy/engine/index.js';
import type { EngineOptions } from '../src/policy/model.js';
import { gcHeap, hasGc, timeEach } from './lib/measure.js';
import { generatePolicies, generateRequests, workloadFor, type Case } from './lib/policy-set.js';

const OPTIONS: EngineOptions = { defaultAction: 'DENY', rootNamespace: 'istio-system' };
const SIZES = (process.env.BENCH_SIZES ?? '10,1000,10000,100000').split(',').map(Number);
const BATCH = 1_000;
const TREE_BATCHES = 400;
const TREE_CALLS = 200_000;
const REFERENCE_ITERATIONS = (rules: number) => Math.max(50, Math.min(20_000, Math.round(2e7 / rules)));

interface Batches {
  readonly medianNs: number;
  readonly p99Ns: number;
}

/** Mean time per call over batches of BATCH consecutive calls, the requests rotating. */
function timeBatches(cases: readonly Case[], batches: number, run: (c: Case) => unknown): Batches {
  const means = new Float64Array(batches);
  let next = 0;
  let sink = 0;
  for (let b = 0; b < batches; b += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i += 1) {
      if (run(cases[next]!) === undefined) sink += 1;
      next = next + 1 === cases.length ? 0 : next + 1;
    }
    means[b] = Number(process.hrtime.bigint() - start) / BATCH;
  }
  if (sink < 0) console.log(sink);
  means.sort();
  return { medianNs: means[Math.floor(batches / 2)]!, p99Ns: means[Math.floor(batches * 0.99)]! };
}

/** The median cost of timing a call that does nothing: subtracted from per-call samples. */
function timerOverheadNs(cases: readonly Case[]): number {
  return timeEach(cases, 200_000, (c) => c).medianNs;
}

function measure(rules: number, overheadNs: number) {
  const workload = workloadFor(rules);
  const policies = generatePolicies(workload);
  const cases = generateRequests(policies, workload, 5_000);
  const heapBefore = gcHeap();
  const started = performance.now();
  const tree = compileTree(policies, OPTIONS);
  const compileMs = performance.now() - started;
  const heapPerRule = (gcHeap() - heapBefore) / tree.stats.rules;
  const evaluate = (c: Case) => tree.evaluate(c.subject, c.request);
  timeBatches(cases, 50, evaluate); // warm-up
  const batches = timeBatches(cases, TREE_BATCHES, evaluate);
  const calls = timeEach(cases, TREE_CALLS, evaluate);
  const refIterations = REFERENCE_ITERATIONS(tree.stats.rules);
  timeEach(cases, Math.min(refIterations, 200), (c) => referenceEvaluate(policies, OPTIONS, c.subject, c.request));
  const fromReference = timeEach(cases, refIterations, (c) => referenceEvaluate(policies, OPTIONS, c.subject, c.request));
  const allowed = cases.filter((c) => tree.evaluate(c.subject, c.request).effect === 'allow').length / cases.length;
  return {
    rules: tree.stats.rules,
    'compile ms': round(compileMs),
    'heap B/rule': Math.round(heapPerRule),
    'median µs': round(batches.medianNs / 1000, 3),
    'p99 batch µs': round(batches.p99Ns / 1000, 3),
    'p99 call µs': round((calls.p99Ns - overheadNs) / 1000, 3),
    'ref median µs': round(fromReference.medianNs / 1000, 1),
    'ref / tree': Math.round(fromReference.medianNs / batches.medianNs),
    'allow %': round(allowed * 100, 1),
  };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

type Row = ReturnType<typeof measure>;

function verdicts(table: readonly Row[]): string[] {
  const smallest = table[0]!;
  const largest = table[table.length - 1]!;
  const ratio = largest['median µs'] / smallest['median µs'];
  return [
    `${largest.rules} vs ${smallest.rules} rules, median: ${round(ratio, 2)} × (target ≤ 2)`,
    `${largest.rules} rules, p99 batch ${largest['p99 batch µs']} µs, p99 call ${largest['p99 call µs']} µs (target < 2)`,
    `${largest.rules} rules, reference / tree: ${largest['ref / tree']} × (target ≥ 300)`,
    `${largest.rules} rules, compile: ${largest['compile ms']} ms (target ≤ 1000)`,
  ];
}

const overheadNs = timerOverheadNs(generateRequests(generatePolicies(workloadFor(10)), workloadFor(10), 5_000));
const table = SIZES.map((rules) => measure(rules, overheadNs));
console.log(`\nDecisionTree vs reference (gc exposed: ${hasGc()}; timer overhead ${overheadNs} ns per call)`);
console.log(`median and p99 batch: means over batches of ${BATCH} evaluations; p99 call: single calls minus the timer overhead`);
console.table(table);
for (const line of verdicts(table)) console.log(line);

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
