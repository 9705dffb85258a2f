/**
 * The foundation issue's figure: DecisionTree evaluation time at 10, 1,000 and 100,000
 * policies (5 rules each, scoped by service, principals per rule), median and p99 per
 * evaluation, with compile time. Same workload generator as the suite's tree micro bench.
 * Run: npx tsc -p bench/tsconfig.json; node --expose-gc node_modules/.cache/meshwarden-bench/bench/tree-by-policies.js
 */
import { RULES_PER_POLICY } from './lib/policy-set.js';
import { measureTreeRound, treeFixture } from './micro/tree-eval.js';

const POLICY_COUNTS = [10, 1_000, 100_000];

console.log('| policies | rules | compile | tree median | tree p99 | reference median |');
console.log('|---|---|---|---|---|---|');
for (const policies of POLICY_COUNTS) {
  const fixture = treeFixture(policies * RULES_PER_POLICY);
  // Reference samples are kept few at large sizes: it walks every rule on every call.
  const round = measureTreeRound(fixture, 200_000, policies >= 100_000 ? 0.05 : 1);
  const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
  console.log(
    `| ${policies.toLocaleString('en')} | ${round.rules.toLocaleString('en')} | ${round.compileMs.toFixed(0)} ms | ${us(round.treeMedianNs)} | ${us(round.treeP99Ns)} | ${us(round.referenceMedianNs)} |`,
  );
}
