/**
 * The Check path in one process, without a transport: CheckRequest bytes → checkBytes →
 * CheckResponse bytes, wired as `meshwarden serve` wires it (identity from the mTLS principal,
 * decision cache, telemetry with metrics on and the decision log off), on the 1,000-rule set.
 * - hit: the allowed request of the load bench, repeated (decision-cache hit);
 * - miss: 20,000 distinct requests through a cache of 1,000 (the load bench's mw-miss): every
 *   request misses and the tree runs;
 * - tcpHit, tcpMiss: the same on TCP connection Checks (no request.http, as Envoy's network
 *   ext_authz filter sends them) on the same policies: one connection repeated, and every
 *   (source principal, destination service) pair of the set, 5,000, through the cache of 1,000.
 * Calls are timed in blocks (hrtime per call would weigh as much as a hit); each round prints
 * the median block's ns per call (`…Ns`, wall) and the process CPU time per call of that block
 * (`…CpuNs`, user + system), one JSON line. Bounded: a fixed number of blocks, and a round stops
 * early past `--max-seconds`. Nothing leaves the process.
 *
 *   npx tsc -p bench/tsconfig.json --outDir node_modules/.cache/check-path && ln -sfn "$PWD/proto" node_modules/.cache/check-path/proto
 *   node node_modules/.cache/check-path/bench/check-path.js --rounds 5
 *
 * Two builds compared, interleaved: bench/compare-check-path.ts.
 */
import { parseArgs } from 'node:util';
import type { Policy } from '../src/policy/model.js';
import { benchCheckService, type CheckBytes } from './lib/check-service.js';
import { distinctRequests } from './lib/distinct-requests.js';
import { checkRequestFrame, checkResponseCode, connectionRequestFrame, grpcFrame, type CheckMessageOptions } from './lib/grpc-frame.js';
import { generatePolicies, workloadFor } from './lib/policy-set.js';
import { allowedRequest } from './load/fixtures.js';

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

/** The server's own wiring of the Check service, decision log off. */
async function checkService(policies: readonly Policy[], cacheMax: number): Promise<CheckBytes> {
  return (await benchCheckService(policies, cacheMax)).checkBytes;
}

/** The CheckRequest message of each request, without the 5-byte gRPC prefix. */
function messages(requests: readonly CheckMessageOptions[]): Uint8Array[] {
  return requests.map((request) => checkRequestFrame(request).subarray(5));
}

interface Block {
  /** Wall time per call. */
  readonly ns: number;
  /** Process CPU time (user + system) per call over the same block. */
  readonly cpuNs: number;
}

/** The median block (by wall time) of `blocks` blocks, none past the deadline; every call must be answered synchronously. */
function medianBlock(check: CheckBytes, requests: readonly Uint8Array[]): Block | undefined {
  const samples: Block[] = [];
  let answered = 0;
  let next = 0;
  const respond = () => void answered++;
  for (let b = 0; b < blocks && performance.now() < deadline; b++) {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < blockSize; i++) {
      check(requests[next]!, respond);
      next = next + 1 === requests.length ? 0 : next + 1;
    }
    const ns = Number(process.hrtime.bigint() - start) / blockSize;
    const used = process.cpuUsage(cpu);
    samples.push({ ns, cpuNs: ((used.user + used.system) * 1000) / blockSize });
  }
  if (answered !== samples.length * blockSize) throw new Error('check-path bench: a Check was not answered synchronously');
  samples.sort((a, b) => a.ns - b.ns);
  return samples[Math.floor(samples.length / 2)];
}

/** Every (principal, service) pair the set names, as connections: distinct decision-cache keys. */
function connectionPairs(policies: readonly Policy[]): Uint8Array[] {
  const principals = new Set(policies.flatMap((p) => p.rules.flatMap((r) => r.from?.flatMap((f) => f.principals ?? []) ?? [])));
  const services = new Set(policies.flatMap((p) => p.scope.services ?? []));
  return [...principals].flatMap((principal) => [...services].map((service) => connectionRequestFrame({ principal, service }).subarray(5)));
}

const workload = workloadFor(RULES);
const policies = generatePolicies(workload);
const allowed = allowedRequest(policies, workload);
const hitRequests = messages([allowed]);
const missRequests = messages(distinctRequests(policies, DISTINCT));
const tcpHitRequests = [connectionRequestFrame({ principal: allowed.principal!, service: allowed.service! }).subarray(5)];
const tcpMissRequests = connectionPairs(policies);
const hit = await checkService(policies, 100_000);
const miss = await checkService(policies, 1000);
hit(hitRequests[0]!, (response) => {
  if (checkResponseCode(grpcFrame(response)) !== 0) throw new Error('check-path bench: the cache-hit request must be allowed');
});
// The set's ALLOW rules all name methods and paths, so on a connection none matches: denied by default.
hit(tcpHitRequests[0]!, (response) => {
  if (checkResponseCode(grpcFrame(response)) !== 7) throw new Error('check-path bench: the connection must be decided (denied), not refused');
});
const rows = { hit: [hit, hitRequests], miss: [miss, missRequests], tcpHit: [hit, tcpHitRequests], tcpMiss: [miss, tcpMissRequests] } as const;
for (const [check, requests] of Object.values(rows)) medianBlock(check, requests); // warm-up, not recorded
for (let round = 0; round < rounds && performance.now() < deadline; round++) {
  const line: Record<string, number> = { round };
  for (const [name, [check, requests]] of Object.entries(rows)) {
    const block = medianBlock(check, requests);
    if (block === undefined) break; // past --max-seconds: a round with rows missing is not printed
    line[`${name}Ns`] = block.ns;
    line[`${name}CpuNs`] = block.cpuNs;
  }
  if (Object.keys(line).length === 1 + 2 * Object.keys(rows).length) process.stdout.write(`${JSON.stringify(line)}\n`);
}
