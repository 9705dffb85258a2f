/**
 * What trust-domain aliases cost (issue 16): compile time, and evaluation time of the caller's
 * own ID and of its aliased twin, for N policies that all name cluster.local (an exact ID and a
 * namespace prefix per rule), with and without `trustDomainAliases: { cluster.local: [old-td.example] }`.
 * Shared machines are noisy: compare figures within one run only.
 * Run: npx tsc -p bench/tsconfig.json; node node_modules/.cache/meshwarden-bench/bench/trust-domain-aliases.js [N]
 */
import { parseSpiffeId, type AccessRequest, type Subject } from '../src/domain/index.js';
import { compileTree, type DecisionTree, type EngineOptions, type Policy } from '../src/policy/index.js';

const N = Number(process.argv[2] ?? 10_000);
const ROUNDS = 5;
const EVALUATIONS = 200_000;

const policies: Policy[] = Array.from({ length: N }, (_, i) => ({
  id: `p${i}`,
  name: `p${i}`,
  format: 'meshwarden',
  origin: { file: 'bench', document: 0, line: 1, column: 1 },
  action: i % 10 === 0 ? 'DENY' : 'ALLOW',
  mode: 'enforce',
  scope: { services: [`svc${i % 500}`] },
  rules: [{ from: [{ principals: [`spiffe://cluster.local/ns/n${i % 200}/sa/s${i}`, `cluster.local/ns/n${i % 200}/*`] }], to: [{ paths: ['/v1/*'], methods: ['GET'] }] }],
}));
const plain: EngineOptions = { defaultAction: 'DENY', rootNamespace: 'istio-system' };
const aliased: EngineOptions = { ...plain, trustDomainAliases: { 'cluster.local': ['old-td.example'] } };
const request: AccessRequest = {
  kind: 'http', requestId: '', method: 'GET', path: '/v1/x', rawPath: '/v1/x', query: '', host: 'svc7', scheme: 'http', protocol: 'HTTP/1.1',
  headers: new Map(), source: {}, destination: {}, contextExtensions: new Map([['service', 'svc7']]), sni: '', filterMetadata: {},
};
const canonical: Subject = { workload: parseSpiffeId('spiffe://cluster.local/ns/n7/sa/s7') };
const twin: Subject = { workload: parseSpiffeId('spiffe://old-td.example/ns/n7/sa/s7') };

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

function compileMs(options: EngineOptions): { ms: number; tree: DecisionTree } {
  const times: number[] = [];
  let tree: DecisionTree | undefined;
  for (let i = 0; i < ROUNDS; i += 1) {
    const start = process.hrtime.bigint();
    tree = compileTree(policies, options);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times), tree: tree! };
}

function evaluateNs(tree: DecisionTree, subject: Subject): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < EVALUATIONS; i += 1) tree.evaluate(subject, request);
    rounds.push(Number(process.hrtime.bigint() - start) / EVALUATIONS);
  }
  return median(rounds);
}

const without = compileMs(plain);
const withAliases = compileMs(aliased);
if (withAliases.tree.evaluate(twin, request).effect !== 'allow') throw new Error('the twin must be allowed through the alias');
console.log(`| ${N.toLocaleString('en')} policies | compile | evaluate cluster.local ID | evaluate old-td.example twin |`);
console.log('|---|---|---|---|');
console.log(`| without aliases | ${without.ms.toFixed(0)} ms | ${evaluateNs(without.tree, canonical).toFixed(0)} ns | (denied: ${without.tree.evaluate(twin, request).reason}) |`);
console.log(`| with aliases | ${withAliases.ms.toFixed(0)} ms | ${evaluateNs(withAliases.tree, canonical).toFixed(0)} ns | ${evaluateNs(withAliases.tree, twin).toFixed(0)} ns |`);
