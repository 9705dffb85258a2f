/**
 * The primary's own series, aggregated with the workers': how many workers are ready, and
 * how many were replaced. Plus the primary's process metrics, so that summed memory and CPU
 * are the whole server's.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import { statsCounter, statsGauge } from '../../telemetry/index.js';
import type { WorkerPool } from './worker-pool.js';

export function createPrimaryRegistry(pool: WorkerPool): Registry {
  const registry = new Registry();
  statsGauge({
    registry,
    name: 'meshwarden_cluster_workers',
    help: 'Worker slots by state: ready, or not (starting, not ready, or being replaced).',
    labelNames: ['state'],
    read: () => {
      const ready = pool.view().filter((worker) => worker.ready).length;
      return [
        [{ state: 'ready' }, ready],
        [{ state: 'not_ready' }, pool.view().length - ready],
      ];
    },
  });
  statsCounter({
    registry,
    name: 'meshwarden_cluster_worker_restarts_total',
    help: 'Workers replaced after they exited unasked.',
    labelNames: [],
    read: () => [[{}, pool.restarts]],
  });
  collectDefaultMetrics({ register: registry });
  return registry;
}
