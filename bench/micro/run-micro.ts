/**
 * The micro benchmarks of the suite, in a process of their own (started with --expose-gc for
 * heap figures): tree vs reference evaluator per size, and the decision-cache hit, with sizes
 * interleaved inside each round. Prints one JSON document on stdout.
 *
 *   node --expose-gc run-micro.js --rounds 5 [--smoke]
 */
import { parseArgs } from 'node:util';
import { hasGc } from '../lib/measure.js';
import { cacheHitBench, type CacheHitRound } from './decision-cache.js';
import { measureTreeRound, treeFixture, type TreeFixture, type TreeRound } from './tree-eval.js';

export interface MicroResults {
  readonly gcExposed: boolean;
  readonly rounds: number;
  readonly tree: TreeRound[];
  readonly cacheHit: CacheHitRound[];
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, smoke: { type: 'boolean', default: false } } });
const smoke = values.smoke;
const rounds = Number(values.rounds);
const sizes = smoke ? [10, 1000] : [10, 1000, 10_000, 100_000];
const treeIterations = smoke ? 2_000 : 100_000;
const referenceScale = smoke ? 0.01 : 0.5;

const fixtures: TreeFixture[] = sizes.map(treeFixture);
const cacheBench = await cacheHitBench(fixtures[1]!);
const results: MicroResults = { gcExposed: hasGc(), rounds, tree: [], cacheHit: [] };
for (let round = 0; round < rounds; round++) {
  for (const fixture of fixtures) {
    results.tree.push(measureTreeRound(fixture, treeIterations, referenceScale));
    process.stderr.write(`micro: round ${round + 1}/${rounds}, ${fixture.rules} rules\n`);
  }
  results.cacheHit.push(cacheBench.round(smoke ? 5 : 200, 1000));
}
process.stdout.write(`${JSON.stringify(results)}\n`);
