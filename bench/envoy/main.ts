/**
 * The through-Envoy section alone (the full suite runs it too):
 *
 *   node node_modules/.cache/meshwarden-bench/bench/envoy/main.js [--smoke] [--out DIR]
 *        [--rounds N] [--duration S] [--latency-duration S] [--rate R] [--h1] [--profile S]
 *   node …/bench/envoy/main.js --render bench/results/envoy.json [--out DIR]   (re-render the report only)
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { envoySection, renderEnvoyReport } from './section.js';

/** This file runs compiled, from <repo>/node_modules/.cache/meshwarden-bench/bench/envoy/. */
const REPO_ROOT = fileURLToPath(new URL('../../../../..', import.meta.url));

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    'latency-duration': { type: 'string' },
    rate: { type: 'string' },
    h1: { type: 'boolean', default: false },
    render: { type: 'string' },
    profile: { type: 'string' },
  },
});
if (values.render) {
  const files = renderEnvoyReport(values.render, values.out ?? join(REPO_ROOT, 'bench/results'));
  process.stderr.write(`bench: Envoy report: ${files.markdown}, ${files.json}\n`);
  process.exit(0);
}
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const result = await envoySection({
  repoRoot: REPO_ROOT,
  outDir: values.out ?? join(REPO_ROOT, 'bench/results'),
  smoke: values.smoke,
  ...(values.rounds ? { rounds: num(values.rounds)! } : {}),
  ...(values.duration ? { durationS: num(values.duration)! } : {}),
  ...(values['latency-duration'] ? { latencyDurationS: num(values['latency-duration'])! } : {}),
  ...(values.rate ? { fixedRate: num(values.rate)! } : {}),
  h1: values.h1,
  ...(values.profile ? { profileS: num(values.profile)! } : {}),
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
if (result.skipped && process.env['CI']) process.exitCode = 1;
