/**
 * What a `request.body.json[...]` condition costs, in process: the decision-cache key and the
 * tree evaluation of one Check (what the Authorizer does when the cache misses), on the
 * 1,000-rule set of the micro bench.
 * - no-body: the set as it is, reading no body, requests without one (the figure that must not move);
 * - unread-64k: the same set, each request carrying a 64 KiB JSON body no policy reads;
 * - body-1k / body-64k: the set plus one mesh-wide DENY on `request.body.json[amount]`, each
 *   request carrying a 1 KiB / 64 KiB JSON body (which says amount 10: the DENY does not match,
 *   so the rest of the set still decides). Every call is a new request object, so every call
 *   parses its body, as every Check does.
 * Calls are timed in blocks (hrtime per call would weigh as much as a no-body call); each
 * figure is the median block's ns per call. Bounded: a fixed number of blocks of a fixed size,
 * and a figure stops early past its time budget.
 */
import type { AccessRequest } from '../../src/domain/access-request.js';
import { compileTree, decisionKeyBuilder } from '../../src/policy/engine/index.js';
import type { EngineOptions, Policy } from '../../src/policy/model.js';
import { generatePolicies, generateRequests, workloadFor, type Case } from '../lib/policy-set.js';

export const BODY_BENCH_OPTIONS: EngineOptions = { defaultAction: 'DENY', rootNamespace: 'istio-system' };
const RULES = 1000;
const CASES = 5000;

export type BodyRow = 'no-body' | 'unread-64k' | 'body-1k' | 'body-64k';
export const BODY_ROWS: readonly BodyRow[] = ['no-body', 'unread-64k', 'body-1k', 'body-64k'];

/** Blocks and block size per row: a 64 KiB parse takes ~1,000 times a no-body call. */
const SHAPE: Readonly<Record<BodyRow, { readonly blocks: number; readonly size: number }>> = {
  'no-body': { blocks: 200, size: 1000 },
  'unread-64k': { blocks: 200, size: 1000 },
  'body-1k': { blocks: 100, size: 100 },
  'body-64k': { blocks: 60, size: 10 },
};

export interface BodyFixture {
  run(row: BodyRow, maxMs: number): number;
}

export function bodyFixture(): BodyFixture {
  const workload = workloadFor(RULES);
  const policies = generatePolicies(workload);
  const cases = generateRequests(policies, workload, CASES);
  const withDeny = [...policies, denyOnAmount()];
  const [small, large] = [jsonBody(1024), jsonBody(64 * 1024)];
  // Built on first use: a build without body conditions can run the no-body row alone.
  const build: Record<BodyRow, () => () => unknown> = {
    'no-body': () => rotation(policies, cases.map((c) => withBody(c, undefined))),
    'unread-64k': () => rotation(policies, cases.map((c) => withBody(c, large))),
    'body-1k': () => rotation(withDeny, cases.map((c) => withBody(c, small))),
    'body-64k': () => rotation(withDeny, cases.map((c) => withBody(c, large))),
  };
  const calls = new Map<BodyRow, () => unknown>();
  return {
    run(row, maxMs) {
      let call = calls.get(row);
      if (call === undefined) calls.set(row, (call = build[row]()));
      return medianBlockNs(call, SHAPE[row].blocks, SHAPE[row].size, maxMs);
    },
  };
}

/** key + evaluate over the cases in turn: consecutive calls never share a request object. */
function rotation(policies: readonly Policy[], cases: readonly Case[]): () => unknown {
  const tree = compileTree(policies, BODY_BENCH_OPTIONS);
  const key = decisionKeyBuilder(tree.reads);
  let next = 0;
  return () => {
    const c = cases[next]!;
    next = next + 1 === cases.length ? 0 : next + 1;
    return key(c.subject, c.request).length + (tree.evaluate(c.subject, c.request).effect === 'allow' ? 1 : 0);
  };
}

function denyOnAmount(): Policy {
  return {
    id: 'istio-system/deny-large-amounts', name: 'deny-large-amounts', format: 'istio',
    origin: { file: 'bench.yaml', document: 0, line: 1, column: 1 }, action: 'DENY', mode: 'enforce', scope: {},
    rules: [{ when: [{ key: 'request.body.json[amount]', values: ['100000'] }] }],
  };
}

/**
 * A copy of the case's request, declared JSON, carrying `body` (undefined: none), every row's
 * requests of one shape, as the Envoy adapter's are. Object.assign: a build from before the
 * body field compiles this too.
 */
function withBody(c: Case, body: Uint8Array | undefined): Case {
  const headers = new Map(c.request.headers).set('content-type', 'application/json');
  const request = Object.assign({}, c.request, { headers, body }) as AccessRequest;
  return { subject: c.subject, request };
}

/** An order of exactly `bytes` bytes of JSON: amount 10, line items, and a note that fills the rest. */
export function jsonBody(bytes: number): Uint8Array {
  const item = (i: number) => ({ sku: `sku-${i}`, qty: 1 + (i % 3), price: 9.99 });
  const text = (items: object[], note: string) => JSON.stringify({ amount: 10, currency: 'EUR', customer: { id: 'c-42', tier: 'gold' }, items, note });
  // about 40 bytes an item; the note takes up what the items leave
  const items = Array.from({ length: Math.floor((bytes - 200) / 40) }, (_, i) => item(i));
  while (text(items, '').length > bytes) items.pop();
  const body = Buffer.from(text(items, 'n'.repeat(bytes - text(items, '').length)));
  if (body.length !== bytes) throw new Error(`body bench: a ${body.length}-byte body, not ${bytes}`);
  return body;
}

function medianBlockNs(call: () => unknown, blocks: number, size: number, maxMs: number): number {
  const stop = performance.now() + maxMs;
  const samples: number[] = [];
  let sink = 0;
  for (let b = 0; b < blocks + 3 && performance.now() < stop; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < size; i++) if (call() === undefined) sink++;
    if (b >= 3) samples.push(Number(process.hrtime.bigint() - start) / size); // 3 blocks warm up
  }
  if (sink > 0 || samples.length === 0) throw new Error('body bench: no sample');
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
