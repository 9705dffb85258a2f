/**
 * The body-condition micro bench (body-conditions.ts) in a process of its own: one JSON line
 * per round, the rows interleaved inside each round. `--rows no-body` runs only what a build
 * without body conditions can run, for a before/after comparison of that row.
 *
 *   npx tsc -p bench/tsconfig.json --outDir /tmp/mw-bench
 *   node /tmp/mw-bench/bench/micro/run-body.js --rounds 5 [--rows no-body,body-1k] [--max-seconds 10]
 */
import { parseArgs } from 'node:util';
import { BODY_ROWS, bodyFixture, type BodyRow } from './body-conditions.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    rows: { type: 'string', default: BODY_ROWS.join(',') },
    'max-seconds': { type: 'string', default: '10' },
  },
});
const rows = values.rows.split(',') as BodyRow[];
for (const row of rows) if (!BODY_ROWS.includes(row)) throw new Error(`unknown row ${row}: ${BODY_ROWS.join(', ')}`);
const maxMs = Number(values['max-seconds']) * 1000;

const fixture = bodyFixture();
for (let round = 0; round < Number(values.rounds); round++) {
  const figures: Partial<Record<BodyRow, number>> = {};
  for (const row of rows) figures[row] = Math.round(fixture.run(row, maxMs));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
