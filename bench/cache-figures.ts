/**
 * Decision-cache figures for the operations issue: the hit ratio on traffic shaped like the
 * example mesh (examples/policies), and the heap held by 100,000 cached decisions.
 * Run (the policy loader reads schema/ beside the compiled src/):
 *   npx tsc -p bench/tsconfig.json; cp -r schema node_modules/.cache/meshwarden-bench/
 *   node --expose-gc node_modules/.cache/meshwarden-bench/bench/cache-figures.js
 */
import { Authorizer } from '../src/authz/authorizer.js';
import { DecisionCache } from '../src/authz/decision-cache.js';
import type { AccessRequest } from '../src/domain/access-request.js';
import { createIdentityResolver } from '../src/identity/index.js';
import { compileTree } from '../src/policy/engine/index.js';
import { countRules } from '../src/policy/model.js';
import { loadPolicies } from '../src/policy/load/index.js';
import type { PolicySnapshot } from '../src/policy/snapshot.js';
import { random } from './lib/policy-set.js';

const ENGINE = { defaultAction: 'DENY', rootNamespace: 'istio-system' } as const;

/** Callers and routes of the example mesh; ids in paths follow a skewed (Zipf-like) popularity. */
const FLOWS: readonly (readonly [string, string, string, string])[] = [
  ['spiffe://prod.example/ns/checkout/sa/checkout', 'payments', 'POST', '/v1/charges'],
  ['spiffe://prod.example/ns/checkout/sa/checkout', 'payments', 'GET', '/v1/charges/ch_{id}'],
  ['spiffe://prod.example/ns/monitoring/sa/prometheus', 'payments', 'GET', '/metrics'],
  ['spiffe://prod.example/ns/support/sa/support-portal', 'payments', 'POST', '/v1/refunds'],
  ['spiffe://prod.example/ns/payments/sa/payments', 'ledger', 'POST', '/entries'],
  ['spiffe://prod.example/ns/payments/sa/payments', 'ledger', 'GET', '/entries/{id}'],
  ['spiffe://cluster.local/ns/shop/sa/frontend', 'orders', 'GET', '/orders/{id}'],
  ['spiffe://cluster.local/ns/shop/sa/checkout', 'orders', 'POST', '/orders'],
  ['spiffe://prod.example/ns/checkout/sa/batch', 'payments', 'GET', '/v1/charges/ch_{id}'],
];

function accessRequest(principal: string, service: string, method: string, path: string): AccessRequest {
  return {
    kind: 'http', requestId: 'r', method, path, rawPath: path, query: '', host: `${service}.svc`, scheme: 'http', protocol: 'HTTP/2',
    headers: new Map(service === 'payments' && path === '/v1/refunds' ? [['x-tenant', 'acme']] : []),
    source: { principal }, destination: {},
    contextExtensions: new Map(service === 'orders' ? [['service', service], ['namespace', 'shop']] : [['service', service]]),
    sni: '', filterMetadata: {},
  };
}

/** An id drawn so that a few ids are hot and most are rare, as for real resources. */
function skewedId(next: () => number, distinct: number): number {
  return Math.floor(distinct ** next());
}

async function main(): Promise<void> {
  const loaded = await loadPolicies(['examples/policies'], ENGINE);
  const tree = compileTree(loaded.policies, ENGINE);
  const snapshot: PolicySnapshot = {
    generation: 1, tree, policies: loaded.policies, files: loaded.files, hash: 'x', policyCount: loaded.policies.length,
    ruleCount: countRules(loaded.policies), loadedAt: Date.now(), options: ENGINE,
  };
  const identity = await createIdentityResolver(undefined, { baseDir: process.cwd() });
  const next = random(7);
  console.log('example traffic (examples/policies; 9 flows, ids skewed over 10,000 resources), decision cache max 100,000:');
  for (const requests of [10_000, 100_000, 1_000_000]) {
    const cache = new DecisionCache({ max: 100_000, ttlMs: 60_000 });
    const authorizer = new Authorizer({ snapshots: { current: snapshot }, identity, cache });
    for (let i = 0; i < requests; i++) {
      const [principal, service, method, template] = FLOWS[Math.floor(next() * FLOWS.length)]!;
      authorizer.authorize(accessRequest(principal, service, method, template.replace('{id}', String(skewedId(next, 10_000)))));
    }
    const { hits, misses, entries } = cache.stats;
    console.log(`  ${requests.toLocaleString('en')} requests: hit ratio ${((100 * hits) / (hits + misses)).toFixed(1)}%, ${entries} entries`);
  }
  await heldMemory(snapshot, identity);
}

async function heldMemory(snapshot: PolicySnapshot, identity: Awaited<ReturnType<typeof createIdentityResolver>>): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const cache = new DecisionCache({ max: 100_000, ttlMs: 3_600_000 });
  const authorizer = new Authorizer({ snapshots: { current: snapshot }, identity, cache });
  gc();
  const before = process.memoryUsage().heapUsed;
  // Requests are made and dropped one by one: what stays is what the cache holds.
  for (let i = 0; i < 100_000; i++) {
    authorizer.authorize(accessRequest('spiffe://prod.example/ns/checkout/sa/checkout', 'payments', 'GET', `/v1/charges/ch_${i}`));
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  const bytes = after - before;
  console.log(`memory: ${cache.stats.entries.toLocaleString('en')} cached decisions hold ${(bytes / 2 ** 20).toFixed(1)} MiB of heap (${Math.round(bytes / cache.stats.entries)} bytes each, keys included)`);
}

await main();
