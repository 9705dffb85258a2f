import { spawnSync } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerTelemetryRequests,
  createClusterMetricsAggregator,
  type TelemetryChannel,
  type TelemetryPeer,
} from '../../src/telemetry/cluster-telemetry.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { parseExposition, sampleValue } from './exposition.js';

const allow = { id: 'd', verdict: 'allow', reason: 'policy_allow', generation: 1 } as const;

/** An in-process primary↔worker pair that round-trips messages through JSON, as IPC does. */
function linkedPair(options: { silent?: boolean } = {}): { peer: TelemetryPeer; channel: TelemetryChannel } {
  const toWorker = new EventEmitter();
  const toPrimary = new EventEmitter();
  const peer: TelemetryPeer = {
    send(message, callback) {
      if (!options.silent) setImmediate(() => toWorker.emit('message', JSON.parse(JSON.stringify(message))));
      callback(null);
      return true;
    },
    on: (event, listener) => toPrimary.on(event, listener),
    off: (event, listener) => toPrimary.off(event, listener),
    isConnected: () => true,
  };
  const channel: TelemetryChannel = {
    send(message) {
      setImmediate(() => toPrimary.emit('message', JSON.parse(JSON.stringify(message))));
      return true;
    },
    on: (event, listener) => toWorker.on(event, listener),
    off: (event, listener) => toWorker.off(event, listener),
  };
  return { peer, channel };
}

describe('AggregatorRegistry over our registries', () => {
  it('sums check counters and keeps the lowest policy generation', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.recordCheck(allow, 0.0001);
    b.recordCheck(allow, 0.0001);
    b.recordCheck(allow, 0.0001);
    a.policyReloaded({ generation: 3, rules: 1, hash: 'x' });
    b.policyReloaded({ generation: 4, rules: 1, hash: 'y' });
    const merged = AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]);
    const samples = parseExposition(await merged.metrics());
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'allow', reason: 'policy_allow' })).toBe(3);
    expect(sampleValue(samples, 'meshwarden_check_duration_seconds_count')).toBe(3);
    expect(sampleValue(samples, 'meshwarden_policy_generation')).toBe(3);
    expect(sampleValue(samples, 'meshwarden_policy_info', { hash: 'x' })).toBe(1);
    expect(sampleValue(samples, 'meshwarden_policy_info', { hash: 'y' })).toBe(1);
  });
});

describe('createClusterMetricsAggregator with in-process peers', () => {
  it('aggregates the answering workers with the primary and reports a silent one as missing', async () => {
    const workers = [createMetrics({ processMetrics: false }), createMetrics({ processMetrics: false })];
    workers[0]?.recordCheck(allow, 0);
    workers[1]?.recordCheck(allow, 0);
    const primary = new Registry();
    const links = workers.map((metrics) => {
      const link = linkedPair();
      answerTelemetryRequests({ registries: [metrics.registry], channel: link.channel });
      return link.peer;
    });
    const silent = linkedPair({ silent: true }).peer;
    const aggregator = createClusterMetricsAggregator({ peers: () => [...links, silent], local: [primary], timeoutMs: 100 });

    const samples = parseExposition(await aggregator.metrics());
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'allow', reason: 'policy_allow' })).toBe(2);
    expect(sampleValue(samples, 'meshwarden_cluster_scrape_workers', { result: 'answered' })).toBe(2);
    expect(sampleValue(samples, 'meshwarden_cluster_scrape_workers', { result: 'missing' })).toBe(1);
  });

  it('stops answering once the responder is stopped', async () => {
    const link = linkedPair();
    const stop = answerTelemetryRequests({ registries: [new Registry()], channel: link.channel });
    stop();
    const aggregator = createClusterMetricsAggregator({ peers: () => [link.peer], timeoutMs: 50 });
    const samples = parseExposition(await aggregator.metrics());
    expect(sampleValue(samples, 'meshwarden_cluster_scrape_workers', { result: 'missing' })).toBe(1);
  });
});

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Compiles src/ with the build config into a directory of its own (not dist/, which e2e
 * tests may be running from), inside the repository so that the output resolves
 * node_modules. Type errors are the typecheck's business; only a missing output fails here.
 */
function compileSources(): string {
  const cache = join(REPO_ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'meshwarden-cluster-test-'));
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out, '--sourceMap', 'false'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (!existsSync(join(out, 'telemetry/cluster-telemetry.js'))) throw new Error(`tsc produced nothing:\n${run.stdout}${run.stderr}`);
  return out;
}

describe('createClusterMetricsAggregator with real cluster workers', () => {
  const started: Worker[] = [];
  let compiled: string | undefined;

  beforeAll(async () => {
    compiled = compileSources();
    const exec = fileURLToPath(new URL('./fixtures/cluster-worker.mjs', import.meta.url));
    cluster.setupPrimary({ exec, execArgv: [], silent: true });
    const env = [
      { WORKER_CHECKS: '3', WORKER_GENERATION: '5' },
      { WORKER_CHECKS: '4', WORKER_GENERATION: '6' },
    ];
    await Promise.all(
      env.map(
        (vars) =>
          new Promise<void>((resolve, reject) => {
            const worker = cluster.fork({ ...vars, MESHWARDEN_COMPILED: compiled });
            started.push(worker);
            worker.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
            worker.on('message', (message: { type?: string }) => message.type === 'test:ready' && resolve());
          }),
      ),
    );
  });

  afterAll(() => {
    for (const worker of started) {
      worker.removeAllListeners('exit');
      worker.kill();
    }
    if (compiled !== undefined) rmSync(compiled, { recursive: true, force: true });
  });

  it('serves metrics summed across worker processes', async () => {
    const aggregator = createClusterMetricsAggregator({ peers: () => started });
    const samples = parseExposition(await aggregator.metrics());
    expect(sampleValue(samples, 'meshwarden_checks_total', { decision: 'allow', reason: 'policy_allow' })).toBe(7);
    expect(sampleValue(samples, 'meshwarden_policy_generation')).toBe(5);
    expect(sampleValue(samples, 'meshwarden_policy_last_reload_success_timestamp_seconds')).toBe(5);
    expect(sampleValue(samples, 'meshwarden_cluster_scrape_workers', { result: 'answered' })).toBe(2);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
  });

  it('serves the flow graph merged across worker processes', async () => {
    const aggregator = createClusterMetricsAggregator({ peers: () => started });
    const { edges } = await aggregator.flows();
    expect(edges).toHaveLength(1);
    expect(edges[0]).toMatchObject({ destination: 'payments', count: 7, paths: { '/orders/{*}': { count: 7 } } });
    expect(edges[0]?.lastSeen).toBe(new Date(6000).toISOString());
  });
});
