/**
 * The Check path in one process, without a transport: CheckRequest bytes → checkBytes →
 * CheckResponse bytes, wired as `meshwarden serve` wires it (identity from the mTLS principal,
 * decision cache, telemetry with metrics on and the decision log off), on the 1,000-rule set.
 * - hit: the allowed request of the load bench, repeated (decision-cache hit);
 * - miss: 20,000 distinct requests through a cache of 1,000 (the load bench's mw-miss): every
 *   request misses and the tree runs.
 * Calls are timed in blocks (hrtime per call would weigh as much as a hit); each round prints
 * the median block's ns per call, one JSON line. Bounded: a fixed number of blocks, and a
 * round stops early past `--max-seconds`. Nothing leaves the process.
 *
 *   npx tsc -p bench/tsconfig.json --outDir node_modules/.cache/check-path && ln -sfn "$PWD/proto" node_modules/.cache/check-path/proto
 *   node node_modules/.cache/check-path/bench/check-path.js --rounds 5
 *
 * Two builds compared, interleaved: bench/compare-check-path.ts.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Authorizer } from '../src/authz/authorizer.js';
import { DecisionCache } from '../src/authz/decision-cache.js';
import { createAuthorizationService } from '../src/check/index.js';
import { buildConfig } from '../src/config/build.js';
import { createIdentityResolver } from '../src/identity/index.js';
import { compileTree } from '../src/policy/engine/index.js';
import type { Policy } from '../src/policy/model.js';
import type { PolicySnapshot } from '../src/policy/snapshot.js';
import { createTelemetry } from '../src/server/telemetry-wiring.js';
import { distinctRequests } from './lib/distinct-requests.js';
import { checkRequestFrame, checkResponseCode, grpcFrame, type CheckMessageOptions } from './lib/grpc-frame.js';
import { generatePolicies, workloadFor } from './lib/policy-set.js';
import { allowedRequest } from './load/fixtures.js';
import { ENGINE_OPTIONS } from './micro/tree-eval.js';

type CheckBytes = (request: Uint8Array, respond: (response: Uint8Array) => void) => void;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    blocks: { type: 'string', default: '60' },
    'block-size': { type: 'string', default: '1000' },
    'max-seconds': { type: 'string', default: '20' },
  },
});
const rounds = Number(values.rounds);
const blocks = Number(values.blocks);
const blockSize = Number(values['block-size']);
const deadline = performance.now() + Number(values['max-seconds']) * 1000;

const RULES = 1000;
const DISTINCT = 20_000;

/** The server's own wiring of the Check service (src/server/runtime.ts), minus listeners. */
async function checkService(policies: readonly Policy[], cacheMax: number): Promise<CheckBytes> {
  const config = buildConfig({ decisionLog: { output: 'off' }, cache: { decisions: { max: cacheMax } } }, process.cwd());
  const telemetry = createTelemetry(config, pino({ enabled: false }));
  const identity = await createIdentityResolver(config.identity, { baseDir: config.baseDir });
  const tree = compileTree(policies, ENGINE_OPTIONS);
  const snapshot: PolicySnapshot = {
    generation: 1, tree, policies, files: [], hash: 'bench', policyCount: policies.length,
    ruleCount: tree.stats.rules, loadedAt: Date.now(), options: ENGINE_OPTIONS,
  };
  const cache = new DecisionCache(config.cache.decisions);
  const authorizer = new Authorizer({ snapshots: { current: snapshot }, identity, cache });
  const service = createAuthorizationService((request) => authorizer.authorize(request), {
    requestLimits: config.grpc.limits,
    observe: (result, request, durationSeconds) => telemetry.recorder.record(result, request, durationSeconds),
  });
  return service.checkBytes;
}

/** The CheckRequest message of each request, without the 5-byte gRPC prefix. */
function messages(requests: readonly CheckMessageOptions[]): Uint8Array[] {
  return requests.map((request) => checkRequestFrame(request).subarray(5));
}

/** Median ns per call over `blocks` blocks; every call must be answered synchronously. */
function medianBlock(check: CheckBytes, requests: readonly Uint8Array[]): number {
  const samples: number[] = [];
  let answered = 0;
  let next = 0;
  const respond = () => void answered++;
  for (let b = 0; b < blocks && performance.now() < deadline; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < blockSize; i++) {
      check(requests[next]!, respond);
      next = next + 1 === requests.length ? 0 : next + 1;
    }
    samples.push(Number(process.hrtime.bigint() - start) / blockSize);
  }
  if (answered !== samples.length * blockSize) throw new Error('check-path bench: a Check was not answered synchronously');
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const workload = workloadFor(RULES);
const policies = generatePolicies(workload);
const hitRequests = messages([allowedRequest(policies, workload)]);
const missRequests = messages(distinctRequests(policies, DISTINCT));
const hit = await checkService(policies, 100_000);
const miss = await checkService(policies, 1000);
hit(hitRequests[0]!, (response) => {
  if (checkResponseCode(grpcFrame(response)) !== 0) throw new Error('check-path bench: the cache-hit request must be allowed');
});
medianBlock(hit, hitRequests); // warm-up, not recorded
medianBlock(miss, missRequests);
for (let round = 0; round < rounds && performance.now() < deadline; round++) {
  const hitNs = medianBlock(hit, hitRequests);
  const missNs = medianBlock(miss, missRequests);
  process.stdout.write(`${JSON.stringify({ round, hitNs, missNs })}\n`);
}
