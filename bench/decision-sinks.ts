/**
 * Does an off-box decision-log sink slow the Check path when its receiver is down? The Check
 * service wired as `serve` wires it (bench/lib/check-service.ts), 1,000 rules, the allowed
 * request repeated (decision-cache hit), in three variants:
 * - off: no decision log at all;
 * - file: every decision logged (allowSampleRate 1, the worst case) to a file, /dev/null;
 * - fileSinkDown: the same plus an HTTP sink whose receiver is down (a closed 127.0.0.1 port:
 *   every send refused, retried with backoff), buffer of 10,000: the buffer fills and then
 *   every Check meets the full-buffer path.
 * The sink's own cost is fileSinkDown against file; off shows what logging every decision costs.
 * Each call is timed on its own (hrtime); blocks of calls alternate with turns of the event
 * loop, so the sink's retries and timers run between them as they would between requests.
 * Each round runs both variants (order swapped every round) and prints their p50/p99/p99.9 in
 * ns, one JSON line; the last line is the median over rounds and the sink's counters. Bounded:
 * fixed rounds and blocks, and a round stops early past `--max-seconds`.
 *
 *   npx tsc -p bench/tsconfig.json --outDir node_modules/.cache/decision-sinks && ln -sfn "$PWD/proto" node_modules/.cache/decision-sinks/proto
 *   node node_modules/.cache/decision-sinks/bench/decision-sinks.js --rounds 7
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { benchCheckService, type BenchCheckService } from './lib/check-service.js';
import { checkRequestFrame, checkResponseCode, grpcFrame } from './lib/grpc-frame.js';
import { generatePolicies, workloadFor } from './lib/policy-set.js';
import { allowedRequest } from './load/fixtures.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    blocks: { type: 'string', default: '40' },
    'block-size': { type: 'string', default: '1000' },
    'max-seconds': { type: 'string', default: '120' },
  },
});
const rounds = Number(values.rounds);
const blocks = Number(values.blocks);
const blockSize = Number(values['block-size']);
const deadline = performance.now() + Number(values['max-seconds']) * 1000;

/** A loopback port with nothing listening: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/** Per-call latencies of `blocks` blocks, the event loop turning between blocks. */
async function measure(service: BenchCheckService, request: Uint8Array): Promise<Percentiles | undefined> {
  const samples = new Float64Array(blocks * blockSize);
  let n = 0;
  let answered = 0;
  const respond = () => void answered++;
  for (let b = 0; b < blocks; b++) {
    if (performance.now() > deadline) return undefined;
    for (let i = 0; i < blockSize; i++) {
      const start = process.hrtime.bigint();
      service.checkBytes(request, respond);
      samples[n++] = Number(process.hrtime.bigint() - start);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (answered !== n) throw new Error('decision-sinks bench: a Check was not answered synchronously');
  samples.sort();
  const at = (q: number) => samples[Math.min(n - 1, Math.floor(q * n))]!;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const workload = workloadFor(1000);
const policies = generatePolicies(workload);
const request = checkRequestFrame(allowedRequest(policies, workload)).subarray(5);
const port = await closedPort();
const logAll = { output: '/dev/null', allowSampleRate: 1, maxLinesPerSecond: 1_000_000_000 };
const variants: Record<string, BenchCheckService> = {
  off: await benchCheckService(policies, 100_000),
  file: await benchCheckService(policies, 100_000, logAll),
  fileSinkDown: await benchCheckService(policies, 100_000, {
    ...logAll,
    sinks: [{ type: 'http', url: `http://127.0.0.1:${port}/logs`, batch: { maxDelay: '200ms' }, retry: { minDelay: '100ms', maxDelay: '1s' } }],
  }),
};
variants['off']!.checkBytes(request, (response) => {
  if (checkResponseCode(grpcFrame(response)) !== 0) throw new Error('decision-sinks bench: the request must be allowed');
});
for (const service of Object.values(variants)) await measure(service, request); // warm-up (and fills the sink's buffer)

const names = Object.keys(variants);
const results: Record<string, Percentiles[]> = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]!); // rotate: each variant in each slot
  const line: Record<string, unknown> = { round };
  for (const name of order) {
    const p = await measure(variants[name]!, request);
    if (p === undefined) break;
    results[name]!.push(p);
    line[name] = p;
  }
  if (Object.keys(line).length === 1 + names.length) process.stdout.write(`${JSON.stringify(line)}\n`);
}
const summary = Object.fromEntries(
  Object.entries(results).map(([name, ps]) => [name, { p50: median(ps.map((p) => p.p50)), p99: median(ps.map((p) => p.p99)), p999: median(ps.map((p) => p.p999)), rounds: ps.length }]),
);
const log = variants['fileSinkDown']!.telemetry.log!;
process.stdout.write(`${JSON.stringify({ summary, sink: log.stats().sinks[0], dropped: log.stats().dropped })}\n`);
process.exit(0); // the sink would retry for ever against the closed port
