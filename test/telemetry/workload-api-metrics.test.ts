/** The Workload API's bundle streams as Prometheus series: updates by result, reconnects, when the last update came. */
import { describe, expect, it } from 'vitest';
import { createStats } from '../../src/identity/lib/stats.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { parseExposition, sampleValue } from './exposition.js';

describe('Workload API metrics', () => {
  it('count updates applied and refused, and reconnects, per stream', async () => {
    const identity = createStats();
    identity.workloadApi.updates.x509 = 3;
    identity.workloadApi.rejected.jwt = 2;
    identity.workloadApi.reconnects.x509 = 1;
    const metrics = createMetrics({ processMetrics: false, sources: { identity: () => identity } });
    const samples = parseExposition(await metrics.exposition());
    expect(sampleValue(samples, 'meshwarden_workload_api_updates_total', { stream: 'x509', result: 'applied' })).toBe(3);
    expect(sampleValue(samples, 'meshwarden_workload_api_updates_total', { stream: 'jwt', result: 'refused' })).toBe(2);
    expect(sampleValue(samples, 'meshwarden_workload_api_updates_total', { stream: 'jwt', result: 'applied' })).toBe(0);
    expect(sampleValue(samples, 'meshwarden_workload_api_reconnects_total', { stream: 'x509' })).toBe(1);
  });

  it('tell when the last update came, in seconds, and 0 before the first (an age alert fires then too)', async () => {
    const identity = createStats();
    const metrics = createMetrics({ processMetrics: false, sources: { identity: () => identity } });
    expect(sampleValue(parseExposition(await metrics.exposition()), 'meshwarden_workload_api_last_update_timestamp_seconds')).toBe(0);
    identity.workloadApi.lastUpdateAt = 1_700_000_000_500;
    const samples = parseExposition(await metrics.exposition());
    expect(sampleValue(samples, 'meshwarden_workload_api_last_update_timestamp_seconds')).toBe(1_700_000_000.5);
  });
});
