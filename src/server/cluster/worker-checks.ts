/**
 * `meshwarden_worker_checks_total{worker, pid}`: each worker's own total of Checks, so the
 * aggregated `/metrics` shows how the kernel and the primary spread connections. `worker`
 * is the slot (1..N, kept by a replacement), `pid` the process; only live workers answer a
 * scrape, so there are never more than N series at once.
 */
import { Counter, type Registry } from 'prom-client';

export function registerWorkerChecks(registry: Registry, slot: number): void {
  const checks = registry.getSingleMetric('meshwarden_checks_total');
  const labels = { worker: String(slot), pid: String(process.pid) };
  new Counter({
    name: 'meshwarden_worker_checks_total',
    help: 'Checks answered by each worker process of the cluster (worker = slot, pid = process).',
    labelNames: ['worker', 'pid'] as const,
    registers: [registry],
    async collect(this: Counter<'worker' | 'pid'>) {
      const values = checks === undefined ? [] : (await checks.get()).values;
      this.reset();
      this.inc(labels, values.reduce((sum, sample) => sum + sample.value, 0));
    },
  });
}
