/**
 * What a repeated request costs once its decision is cached: Authorizer.authorize end to end
 * (identity from the mTLS principal, key, cache lookup, Decision), and DecisionCache.get alone.
 * Calls are timed in blocks (hrtime per call would weigh as much as the call); median block.
 */
import { Authorizer } from '../../src/authz/authorizer.js';
import { DecisionCache } from '../../src/authz/decision-cache.js';
import type { AccessRequest } from '../../src/domain/access-request.js';
import { createIdentityResolver } from '../../src/identity/index.js';
import { compileTree, decisionKey } from '../../src/policy/engine/index.js';
import type { PolicySnapshot } from '../../src/policy/snapshot.js';
import type { TreeFixture } from './tree-eval.js';
import { ENGINE_OPTIONS } from './tree-eval.js';

export interface CacheHitRound {
  readonly authorizeNs: number;
  readonly getNs: number;
}

export interface CacheHitBench {
  round(blocks: number, blockSize: number): CacheHitRound;
}

export async function cacheHitBench(fixture: TreeFixture): Promise<CacheHitBench> {
  const tree = compileTree(fixture.policies, ENGINE_OPTIONS);
  const snapshot: PolicySnapshot = {
    generation: 1, tree, policies: fixture.policies, files: [], hash: 'bench', policyCount: fixture.policies.length,
    ruleCount: tree.stats.rules, loadedAt: Date.now(), options: ENGINE_OPTIONS,
  };
  const allowed = fixture.cases.find((c) => tree.evaluate(c.subject, c.request).effect === 'allow') ?? fixture.cases[0]!;
  const request: AccessRequest = { ...allowed.request, source: { ...allowed.request.source, principal: allowed.subject.workload!.uri } };
  const cache = new DecisionCache({ max: 100_000, ttlMs: 3_600_000 });
  const identity = await createIdentityResolver(undefined, { baseDir: process.cwd() });
  const authorizer = new Authorizer({ snapshots: { current: snapshot }, identity, cache });
  const first = authorizer.authorize(request);
  if (first instanceof Promise || first.decision.verdict !== 'allow') throw new Error('cache-hit bench: the request must be allowed synchronously');
  const key = `1|${decisionKey(tree.reads, allowed.subject, request)}`;
  if (cache.get(key) === undefined) throw new Error('cache-hit bench: key differs from the Authorizer\'s');
  return {
    round(blocks, blockSize) {
      const authorizeNs = medianBlock(blocks, blockSize, () => authorizer.authorize(request));
      const getNs = medianBlock(blocks, blockSize, () => cache.get(key));
      return { authorizeNs, getNs };
    },
  };
}

function medianBlock(blocks: number, blockSize: number, call: () => unknown): number {
  const samples: number[] = [];
  let sink = 0;
  for (let b = 0; b < blocks + 5; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < blockSize; i++) if (call() === undefined) sink++;
    if (b >= 5) samples.push(Number(process.hrtime.bigint() - start) / blockSize); // first 5 blocks warm up
  }
  if (sink > 0) throw new Error('cache-hit bench: a call answered nothing');
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
