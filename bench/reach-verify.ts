/**
 * Issue 18's scale figure: `reach` and `verify` on the 100,000-rule bench set (the generator of
 * tree-by-policies: 20,000 policies of 5 rules on 10,000 services, 2 exact principals per rule,
 * paths exact/prefix/template, a header condition on a third of the rules, 2 mesh-wide DENYs).
 * Wall time of each question, median of ROUNDS runs, one process, after one warm-up run.
 * Then the whole commands, from the set written as YAML, once each: load, compile, answer
 * (`meshwarden` from dist/: `npm run build` first).
 * Run: npx tsc -p bench/tsconfig.json; node node_modules/.cache/meshwarden-bench/bench/reach-verify.js [RULES]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileTree, computeReach, blastRadius, Reach, type EngineOptions } from '../src/policy/index.js';
import { invariantsOf, proveInvariants } from '../src/workflow/verify/index.js';
import { parseLocatedYaml } from '../src/workflow/located-yaml.js';
import { generatePolicies, workloadFor } from './lib/policy-set.js';
import { policiesYaml } from './lib/policy-yaml.js';

const RULES = Number(process.argv[2] ?? 100_000);
const ROUNDS = 5;
const OPTIONS: EngineOptions = { defaultAction: 'DENY', rootNamespace: 'istio-system' };
const CALLER = 'spiffe://prod.example/ns/ns-7/sa/sa-7';

const SEGMENTS = `
- isolate: { from: { namespace: legacy }, to: { namespace: ns-7 } }
- noUnauthenticated: { to: { namespace: ns-7 } }
- only: { callers: ["${CALLER}"], may: { methods: [DELETE], paths: ["/api/v1/**"] }, on: svc-1 }
- everyDestinationCovered: { namespace: ns-7 }
`;

/** Each run starts from a fresh Reach (its index and grant cache built anew): a cold question, as the CLI asks it. */
function time(question: (reach: Reach) => unknown): { ms: number; result: unknown } {
  const run = () => question(new Reach({ policies, options: OPTIONS, tree }));
  run();
  const samples: number[] = [];
  let result: unknown;
  for (let i = 0; i < ROUNDS; i += 1) {
    const started = performance.now();
    result = run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(ROUNDS / 2)]!, result };
}

const workload = workloadFor(RULES);
const policies = generatePolicies(workload);
let started = performance.now();
const tree = compileTree(policies, OPTIONS);
const compileMs = performance.now() - started;
started = performance.now();
const reach = new Reach({ policies, options: OPTIONS, tree });
const destinations = reach.destinations().length;
const indexMs = performance.now() - started;
const invariants = invariantsOf(parseLocatedYaml(SEGMENTS, 'bench-segments.yaml'));

const rows: [string, number, string][] = [];
const to = time((r) => computeReach(r, { destination: { service: 'svc-1' } }));
rows.push(['reach --to svc-1', to.ms, `${(to.result as ReturnType<typeof computeReach>).entries.length} entries, each with a witness`]);
const from = time((r) => computeReach(r, { caller: { principal: CALLER } }));
rows.push([`reach --from ${CALLER}`, from.ms, `${(from.result as ReturnType<typeof computeReach>).entries.length} entries over ${destinations} destinations`]);
const blast = time((r) => blastRadius(r, CALLER, 3));
rows.push(['reach --blast-radius (depth 3)', blast.ms, `${(blast.result as ReturnType<typeof blastRadius>).hops.length} hops`]);
const verify = time((r) => proveInvariants(r, invariants));
const verdicts = (verify.result as ReturnType<typeof proveInvariants>).map((r) => `${r.invariant.kind} ${r.verdict} (${r.destinations} dest.)`).join('; ');
rows.push([`verify (${invariants.length} invariants)`, verify.ms, verdicts]);

console.log(`${policies.length.toLocaleString('en')} policies, ${RULES.toLocaleString('en')} rules, ${destinations.toLocaleString('en')} destinations; compile ${compileMs.toFixed(0)} ms, reach index ${indexMs.toFixed(0)} ms; median of ${ROUNDS}`);
console.log('');
console.log('| question | median | result |');
console.log('|---|---|---|');
for (const [question, ms, result] of rows) console.log(`| ${question} | ${ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`} | ${result} |`);

// The whole commands as a CI job runs them: read the YAML, compile, answer. One run each, bounded.
const dir = mkdtempSync(join(tmpdir(), 'mw-bench-reach-'));
writeFileSync(join(dir, 'policies.yaml'), policiesYaml(policies));
writeFileSync(join(dir, 'segments.yaml'), SEGMENTS);
const commands: [string, string[]][] = [
  ['meshwarden check (load and validate only: the reference)', ['check', join(dir, 'policies.yaml')]],
  ['meshwarden reach --to svc-1', ['reach', join(dir, 'policies.yaml'), '--to', 'svc-1']],
  ['meshwarden verify (4 invariants)', ['verify', join(dir, 'policies.yaml'), '--invariants', join(dir, 'segments.yaml')]],
];
console.log('');
console.log('| whole command (load + compile + answer) | wall time | exit |');
console.log('|---|---|---|');
for (const [name, args] of commands) {
  const started = performance.now();
  const run = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
  console.log(`| ${name} | ${((performance.now() - started) / 1000).toFixed(1)} s | ${run.status ?? run.signal} |`);
}
