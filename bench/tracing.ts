/**
 * What tracing costs the Check path. The Check service wired as `serve` wires it
 * (bench/lib/check-service.ts), 1,000 rules, the allowed request repeated (decision-cache hit),
 * in four variants:
 * - absent: no `tracing` key, the default: the Check service holds no tracer;
 * - on1: tracing on, sampleRate 0.01, requests without a traceparent (1 % of roots recorded);
 * - on100: tracing on, sampleRate 1, requests without a traceparent (every Check recorded);
 * - parent: tracing on (sampleRate 0.01, parentBased), every request carrying a sampled
 *   traceparent, as behind a tracing Envoy: every Check continues it and is recorded.
 * - before (with `--before DIR`): the same service from another build's compiled bench tree, e.g.
 *   the commit before tracing existed, in this same process: what `absent` is held to.
 * Spans are exported (OTLP/HTTP, the SDK's batch defaults: 5 s, queue of 2,048, what overflows is
 * dropped) to a receiver in this process that reads and discards them. Per round and variant:
 * throughput (Checks per second of blocks timed whole) and p50/p99 of calls timed one by one
 * (hrtime, ~50 ns, included). The variants take turns block by block, so the machine's bursts
 * fall on all alike, and blocks alternate with turns of the event loop, where the exporter's
 * timers run, as they would between requests. The last line is the median over rounds.
 * Bounded: fixed rounds and blocks, stops past `--max-seconds`.
 *
 *   git worktree add --detach /tmp/mw-before f35193f && ln -s "$PWD/node_modules" /tmp/mw-before/node_modules
 *   git show fd34846:bench/lib/check-service.ts > /tmp/mw-before/bench/lib/check-service.ts   # (f35193f, the base of tracing, predates it)
 *   (cd /tmp/mw-before && npx tsc -p bench/tsconfig.json --outDir .bench-out; ln -sfn "$PWD/proto" .bench-out/proto)
 *   npx tsc -p bench/tsconfig.json --outDir node_modules/.cache/tracing && ln -sfn "$PWD/proto" node_modules/.cache/tracing/proto
 *   node node_modules/.cache/tracing/bench/tracing.js --rounds 9 --before /tmp/mw-before/.bench-out --only before,absent
 *   node node_modules/.cache/tracing/bench/tracing.js --rounds 7 --only absent,on1,on100,parent
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { benchCheckService, type BenchCheckService } from './lib/check-service.js';
import { checkRequestFrame, checkResponseCode, grpcFrame } from './lib/grpc-frame.js';
import { generatePolicies, workloadFor } from './lib/policy-set.js';
import { allowedRequest } from './load/fixtures.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    blocks: { type: 'string', default: '30' },
    'block-size': { type: 'string', default: '1000' },
    'max-seconds': { type: 'string', default: '300' },
    /** A compiled bench tree of the build before tracing (bench/tsconfig.json's output there): adds the row `before`. */
    before: { type: 'string' },
    /**
     * The variants to run, comma-separated (default all). The variants of this build share its
     * code, which the JIT then sees with and without a tracer: \`--only before,absent\` holds the
     * off path to the build before, each monomorphic, as a serving process is.
     */
    only: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const blocks = Number(values.blocks);
const blockSize = Number(values['block-size']);
const deadline = performance.now() + Number(values['max-seconds']) * 1000;

/** An OTLP/HTTP receiver that reads every export and drops it. */
async function discardingReceiver(): Promise<{ url: string; bytes: () => number }> {
  let bytes = 0;
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, bytes: () => bytes };
}

interface Figures {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

interface Variant {
  readonly service: BenchCheckService;
  readonly request: Uint8Array;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * One round: block by block, every variant runs one block in turn (the order rotating by
 * block), so a burst of load on the machine falls on all of them alike. First blocks timed
 * whole (throughput), then blocks of calls timed one by one (percentiles).
 */
async function measureRound(variants: ReadonlyMap<string, Variant>): Promise<Map<string, Figures> | undefined> {
  const names = [...variants.keys()];
  const wholeNs = new Map(names.map((name) => [name, 0]));
  const samples = new Map(names.map((name) => [name, new Float64Array(blocks * blockSize)]));
  let answered = 0;
  const respond = () => void answered++;
  for (let b = 0; b < blocks; b++) {
    if (performance.now() > deadline) return undefined;
    for (let v = 0; v < names.length; v++) {
      const name = names[(b + v) % names.length]!;
      const { service, request } = variants.get(name)!;
      const start = process.hrtime.bigint();
      for (let i = 0; i < blockSize; i++) service.checkBytes(request, respond);
      wholeNs.set(name, wholeNs.get(name)! + Number(process.hrtime.bigint() - start));
      await turn();
    }
  }
  for (let b = 0; b < blocks; b++) {
    for (let v = 0; v < names.length; v++) {
      const name = names[(b + v) % names.length]!;
      const { service, request } = variants.get(name)!;
      const into = samples.get(name)!;
      for (let i = 0; i < blockSize; i++) {
        const start = process.hrtime.bigint();
        service.checkBytes(request, respond);
        into[b * blockSize + i] = Number(process.hrtime.bigint() - start);
      }
      await turn();
    }
  }
  const n = blocks * blockSize;
  if (answered !== 2 * n * names.length) throw new Error('tracing bench: a Check was not answered synchronously');
  return new Map(
    names.map((name) => {
      const sorted = samples.get(name)!.sort();
      return [name, { perSecond: (n * 1e9) / wholeNs.get(name)!, p50: sorted[Math.floor(0.5 * n)]!, p99: sorted[Math.floor(0.99 * n)]! }];
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const workload = workloadFor(1000);
const policies = generatePolicies(workload);
const allowed = allowedRequest(policies, workload);
const plain = checkRequestFrame(allowed).subarray(5);
const parented = checkRequestFrame({
  ...allowed,
  headers: { ...allowed.headers, traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` },
}).subarray(5);
const receiver = await discardingReceiver();
const tracing = (sampleRate: number) => ({ otlp: { endpoint: receiver.url }, sampleRate, parentBased: true });
const wanted = (name: string) => values.only === undefined || values.only.split(',').includes(name);
const variants = new Map<string, Variant>();
if (values.before !== undefined && wanted('before')) {
  // the same service from the build before tracing existed: what "off" is held to
  const before = (await import(pathToFileURL(resolve(values.before, 'bench/lib/check-service.js')).href)) as { benchCheckService: typeof benchCheckService };
  variants.set('before', { service: await before.benchCheckService(policies, 100_000), request: plain });
}
const ours: Record<string, () => Promise<Variant>> = {
  absent: async () => ({ service: await benchCheckService(policies, 100_000), request: plain }),
  on1: async () => ({ service: await benchCheckService(policies, 100_000, { output: 'off' }, tracing(0.01)), request: plain }),
  on100: async () => ({ service: await benchCheckService(policies, 100_000, { output: 'off' }, tracing(1)), request: plain }),
  parent: async () => ({ service: await benchCheckService(policies, 100_000, { output: 'off' }, tracing(0.01)), request: parented }),
};
for (const [name, make] of Object.entries(ours)) if (wanted(name)) variants.set(name, await make());
for (const { service, request } of variants.values()) {
  service.checkBytes(request, (response) => {
    if (checkResponseCode(grpcFrame(response)) !== 0) throw new Error('tracing bench: the request must be allowed');
  });
}
await measureRound(variants); // warm-up, not recorded

const results = new Map<string, Figures[]>([...variants.keys()].map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const figures = await measureRound(variants);
  if (figures === undefined) break; // past --max-seconds
  for (const [name, f] of figures) results.get(name)!.push(f);
  process.stdout.write(`${JSON.stringify({ round, ...Object.fromEntries(figures) })}\n`);
}
const summary = Object.fromEntries(
  [...results].map(([name, fs]) => [
    name,
    { perSecond: Math.round(median(fs.map((f) => f.perSecond))), p50Ns: median(fs.map((f) => f.p50)), p99Ns: median(fs.map((f) => f.p99)), rounds: fs.length },
  ]),
);
process.stdout.write(`${JSON.stringify({ summary, exportedBytes: receiver.bytes() })}\n`);
process.exit(0);
