/**
 * Two builds of bench/check-path.ts compared on one machine: their processes alternate, the
 * order swapped every round, so drift in the machine's load falls on both. Prints the cache-hit
 * and cache-miss rows of each: median over every round of every process, with min–max.
 *
 *   node node_modules/.cache/check-path/bench/compare-check-path.js \
 *     --before /tmp/mw-before/node_modules/.cache/check-path --after node_modules/.cache/check-path
 *
 * Each directory is a compiled bench tree inside one checkout (its packages resolve from that
 * checkout's node_modules), made as bench/check-path.ts says; each process runs under a time limit.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    processes: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
  },
});
if (values.before === undefined || values.after === undefined) throw new Error('usage: --before DIR --after DIR');
const builds = { before: resolve(values.before), after: resolve(values.after) } as const;
type Build = keyof typeof builds;

interface Round {
  readonly hitNs: number;
  readonly missNs: number;
}

function run(build: Build): Round[] {
  const dir = builds[build];
  const script = join(dir, 'bench/check-path.js');
  const done = spawnSync(process.execPath, [script, '--rounds', values.rounds!], { encoding: 'utf8', timeout: 120_000 });
  if (done.status !== 0) throw new Error(`${build}: exit ${done.status ?? done.signal}\n${done.stderr}`);
  return done.stdout.trim().split('\n').map((line) => JSON.parse(line) as Round);
}

const rounds: Record<Build, Round[]> = { before: [], after: [] };
for (let p = 0; p < Number(values.processes); p++) {
  const order: Build[] = p % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const build of order) rounds[build].push(...run(build));
  process.stderr.write(`compare: process pair ${p + 1}/${values.processes}\n`);
}

function figure(samples: readonly number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${(median / 1000).toFixed(2)} µs (${(sorted[0]! / 1000).toFixed(2)}–${(sorted.at(-1)! / 1000).toFixed(2)})`;
}

console.log('| row | before | after |');
console.log('| --- | --- | --- |');
for (const [row, key] of [['cache hit', 'hitNs'], ['cache miss', 'missNs']] as const) {
  console.log(`| ${row} | ${figure(rounds.before.map((r) => r[key]))} | ${figure(rounds.after.map((r) => r[key]))} |`);
}
console.log(`\n${rounds.before.length} rounds per build, median ns per Check of a 1,000-call block, median of rounds (min–max).`);
