/**
 * The live map's API on the serving thread, at 1,000, 10,000 and 100,000 rules (the suite's
 * generated set, 5 rules a policy): a what-if (the request read as explain reads it, traced and
 * decided as explain does) and a node's reach, for a destination and for a caller, the first
 * time after a reload (the reach index is built then) and again. Every millisecond here is a
 * millisecond Checks wait on that process, which is why both share one rate (1/s, burst 5).
 * Run: npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/meshwarden-bench/bench/ui-map-api.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PolicySnapshot } from '../src/policy/index.js';
import { generatePolicies, RULES_PER_POLICY, workloadFor } from './lib/policy-set.js';

/** From dist/, as the server runs them: the what-if reads requests with the Envoy codec, which finds its protos from there. */
const dist = (path: string) => pathToFileURL(join(process.cwd(), 'dist', path)).href;
const { createUiAnalysis } = (await import(dist('cli/admin-ui-analysis.js'))) as typeof import('../src/cli/admin-ui-analysis.js');
const { compileTree } = (await import(dist('policy/index.js'))) as typeof import('../src/policy/index.js');
const { nodeReach } = (await import(dist('server/admin/ui/node-reach.js'))) as typeof import('../src/server/admin/ui/node-reach.js');

const RULE_COUNTS = [1_000, 10_000, 100_000];
const REPORT = 'bench/results/ui-map-api.md';
const OPTIONS = { defaultAction: 'DENY', rootNamespace: 'istio-system' } as const;

function snapshotOf(rules: number): PolicySnapshot {
  const generated = generatePolicies(workloadFor(rules));
  const tree = compileTree(generated, OPTIONS);
  const snapshot = { generation: 1, tree, policies: generated, files: [], hash: '', policyCount: generated.length, ruleCount: 0, loadedAt: 0, options: OPTIONS };
  return snapshot;
}

function timed(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const lines = [
  '# The live map API on the serving thread',
  '',
  `${new Date().toISOString()}, Node ${process.version}. Each figure one call; "again": the same question a second time (caches warm).`,
  '',
  '| policies | rules | what-if | what-if again | reach of a service | again | reach of a workload | again |',
  '|---|---|---|---|---|---|---|---|',
];
for (const rules of RULE_COUNTS) {
  const snapshot = snapshotOf(rules);
  const policy = snapshot.policies[Math.floor(snapshot.policies.length / 2)]!;
  const principal = policy.rules[0]!.from![0]!.principals![0]!;
  const service = policy.scope.services![0]!;
  const request = JSON.stringify({ method: 'GET', path: '/v1/items/1', contextExtensions: { service }, source: { principal } });
  const analysis = createUiAnalysis();
  const figures = [
    timed(() => analysis.whatIf(snapshot, request)),
    timed(() => analysis.whatIf(snapshot, request)),
    timed(() => nodeReach(snapshot, service, 'destination')),
    timed(() => nodeReach(snapshot, service, 'destination')),
    timed(() => nodeReach(snapshot, principal, 'caller')),
    timed(() => nodeReach(snapshot, principal, 'caller')),
  ];
  const row = `| ${(rules / RULES_PER_POLICY).toLocaleString('en')} | ${rules.toLocaleString('en')} | ${figures.map(ms).join(' | ')} |`;
  console.log(row);
  lines.push(row);
}
lines.push('', 'Command: `npm run build && npx tsc -p bench/tsconfig.json && node node_modules/.cache/meshwarden-bench/bench/ui-map-api.js`', '');
writeFileSync(REPORT, lines.join('\n'));
console.log(`written to ${REPORT}`);
