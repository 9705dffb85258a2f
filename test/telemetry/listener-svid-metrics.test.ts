/**
 * The listener's X.509-SVID as Prometheus series: when the SVID in service became valid and
 * when it expires, in seconds, so that an alert can tell a stalled rotation (less than a third
 * of its lifetime left) from a healthy one; 0 before the first SVID and without one.
 */
import { describe, expect, it } from 'vitest';
import type { WorkloadSvidStats } from '../../src/identity/index.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { parseExposition, sampleValue } from './exposition.js';

const NOT_BEFORE = 'meshwarden_workload_api_svid_not_before_timestamp_seconds';
const EXPIRY = 'meshwarden_workload_api_svid_expiry_timestamp_seconds';
const noSvidYet = (): WorkloadSvidStats => ({ updates: 0, rejected: 0, reconnects: 0, lastUpdateAt: undefined, validFrom: undefined, expiresAt: undefined });

describe("the listener SVID's validity", () => {
  it('is its notBefore and notAfter in seconds, the lifetime an alert divides', async () => {
    const stats = { ...noSvidYet(), updates: 1, lastUpdateAt: 1_700_000_001_000, validFrom: 1_700_000_000_000, expiresAt: 1_700_003_600_000 };
    const metrics = createMetrics({ processMetrics: false, sources: { listenerSvid: () => stats } });
    const samples = parseExposition(await metrics.exposition());
    expect(sampleValue(samples, NOT_BEFORE)).toBe(1_700_000_000);
    expect(sampleValue(samples, EXPIRY)).toBe(1_700_003_600);
  });

  it.each([
    ['before the first SVID', { listenerSvid: noSvidYet }],
    ['when the listener does not take its SVID from the Workload API', {}],
  ])('is 0 %s, which the alert leaves alone', async (_, sources) => {
    const samples = parseExposition(await createMetrics({ processMetrics: false, sources }).exposition());
    expect(sampleValue(samples, NOT_BEFORE)).toBe(0);
    expect(sampleValue(samples, EXPIRY)).toBe(0);
  });
});
