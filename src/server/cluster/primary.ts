/**
 * The primary of `--workers N`: validates the policies itself (a broken set fails before any
 * fork, with the single-process error), forks N workers that all serve one gRPC address,
 * and serves the admin endpoints for all of them: metrics and flows aggregated over IPC,
 * readiness only when every worker is ready, `/policy` from its own compile plus what each
 * worker reports. SIGHUP is relayed to every worker; shutdown drains them all.
 */
import { fileURLToPath } from 'node:url';
import { engineOptionsOf, type ServerConfig } from '../../config/index.js';
import { createClusterMetricsAggregator } from '../../telemetry/index.js';
import { startAdminServer, type AdminServer, type UiAnalysis } from '../admin/index.js';
import type { Serving } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { PolicyReloader } from '../policy-reloader.js';
import { policyInfo, unloadable } from '../runtime.js';
import { WORKER_ENV } from './messages.js';
import { createPrimaryRegistry } from './primary-metrics.js';
import { resolveSharedAddress } from './shared-address.js';
import type { WorkerAssignment } from './worker.js';
import { WorkerPool, type WorkerView } from './worker-pool.js';

export interface ClusterPrimary extends Serving {
  readonly grpcAddress: string;
  /** The HTTP ext_authz address every worker binds, or "off". */
  readonly httpAddress: string;
  readonly adminAddress: string | undefined;
  /** Worker pids, by slot, at the time of asking. */
  workerPids(): (number | undefined)[];
}

/** Past the drain time, a worker that has not exited is killed. */
const STOP_MARGIN_MS = 2_000;
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/** `analysis`: the live map's what-if and reach (admin.ui), answered by the primary from its own snapshot. */
export async function startClusterPrimary(config: ServerConfig, logger: Logger, analysis?: UiAnalysis): Promise<ClusterPrimary> {
  const policies = await loadPolicies(config, logger);
  const grpcAddress = await resolveSharedAddress(config.grpc.address);
  const httpAddress = config.http.address === 'off' ? 'off' : await resolveSharedAddress(config.http.address);
  const assignment = (slot: number): WorkerAssignment => ({
    slot,
    config: { ...config, grpc: { ...config.grpc, address: grpcAddress }, http: { ...config.http, address: httpAddress } },
  });
  const pool = new WorkerPool({
    size: config.workers,
    exec: WORKER_MAIN,
    env: (slot) => ({ [WORKER_ENV]: JSON.stringify(assignment(slot)) }),
    logger,
  });
  const state = { draining: false };
  // Admin first: a busy admin port fails before any fork, and probes see "not ready" while workers start.
  const admin = await startAdmin(config, pool, { policies, analysis }, () => !state.draining && pool.allReady());
  try {
    await pool.start();
  } catch (error) {
    policies.close();
    await pool.stop(config.shutdown.notServingDelayMs + config.shutdown.drainMs + STOP_MARGIN_MS);
    await admin?.close();
    throw error;
  }
  if (config.reload.watch) policies.watch();
  return {
    grpcAddress,
    httpAddress,
    adminAddress: admin?.address,
    workerPids: () => pool.view().map((worker) => worker.pid),
    async reload() {
      pool.broadcast({ type: 'meshwarden:reload' });
      await policies.reload();
    },
    async shutdown() {
      state.draining = true;
      policies.close();
      await pool.stop(config.shutdown.notServingDelayMs + config.shutdown.drainMs + STOP_MARGIN_MS);
      await admin?.close();
    },
  };
}

/** The primary's own compile: fails start-up early, and keeps `/policy` answering while workers restart. */
async function loadPolicies(config: ServerConfig, logger: Logger): Promise<PolicyReloader> {
  const policies: PolicyReloader = new PolicyReloader({
    paths: config.policies,
    engine: engineOptionsOf(config),
    debounceMs: config.reload.debounceMs,
    onReload: (result) => {
      if (result.ok) return;
      const outcome = policies.current === undefined ? 'no snapshot in service yet: not starting (exit 1)' : 'workers keep their snapshot';
      logger.error({ errors: result.errors }, `primary: policies failed to load; ${outcome}`);
    },
  });
  const first = await policies.reload();
  if (!first.ok) throw unloadable('policies', first.errors);
  return policies;
}

function startAdmin(
  config: ServerConfig,
  pool: WorkerPool,
  { policies, analysis }: { policies: PolicyReloader; analysis: UiAnalysis | undefined },
  ready: () => boolean,
): Promise<AdminServer> | undefined {
  if (config.admin.address === 'off') return undefined;
  const aggregator = createClusterMetricsAggregator({ peers: () => pool.serving(), local: [createPrimaryRegistry(pool)] });
  return startAdminServer({
    ui: config.admin.ui ? { snapshot: () => policies.current, analysis } : undefined,
    address: config.admin.address,
    metrics: () => aggregator.metrics(),
    contentType: aggregator.contentType,
    health: () => {
      if (ready()) return { live: true, ready: true };
      return { live: true, ready: false, reason: clusterNotReadyReason(pool.view(), config.workers) };
    },
    policyInfo: () => ({ ...policyInfo(policies), workers: pool.view() }),
    flows: () => aggregator.flows(),
  });
}

/**
 * How many workers are not ready, and why, in their own words (each distinct reason once, so
 * N workers missing the same trust bundle say it once): a pod that never turns Ready says why
 * in its probe's answer, as a single process does.
 */
export function clusterNotReadyReason(workers: readonly WorkerView[], count: number): string {
  const waiting = workers.filter((worker) => !worker.ready);
  if (waiting.length === 0) return 'draining';
  const reasons = [...new Set(waiting.map((worker) => worker.reason ?? 'starting'))];
  return `${waiting.length} of ${count} workers not ready: ${reasons.join('; ')}`;
}
