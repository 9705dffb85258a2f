import { describe, expect, it } from 'vitest';
import { clusterNotReadyReason } from '../../../src/server/cluster/primary.js';
import type { WorkerView } from '../../../src/server/cluster/worker-pool.js';

const worker = (slot: number, ready: boolean, reason?: string): WorkerView => ({
  slot, pid: 100 + slot, ready, generation: 1, hash: 'h', ...(reason === undefined ? {} : { reason }),
});

describe("the primary's reason for not being ready", () => {
  it('counts the workers not ready and gives each distinct reason once, in their words', () => {
    const reason = clusterNotReadyReason([worker(1, false, 'trust bundle prod.example: ENOENT'), worker(2, false, 'trust bundle prod.example: ENOENT'), worker(3, true)], 3);
    expect(reason).toBe('2 of 3 workers not ready: trust bundle prod.example: ENOENT');
  });

  it('says a worker that has said nothing yet is starting', () => {
    expect(clusterNotReadyReason([worker(1, false), worker(2, false, 'no policy snapshot')], 2)).toBe('2 of 2 workers not ready: starting; no policy snapshot');
  });

  it('says draining when every worker is ready but the cluster is not', () => {
    expect(clusterNotReadyReason([worker(1, true)], 1)).toBe('draining');
  });
});
