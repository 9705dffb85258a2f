// The series the shipped alerts (k8s/monitoring/meshwarden-alerts.yaml) need beyond the
// counters: whether the newest policy reload failed, and readiness as a gauge.
import { describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { parseExposition, sampleValue } from './exposition.js';

const FAILURE = 'meshwarden_policy_last_reload_failure_timestamp_seconds';
const SUCCESS = 'meshwarden_policy_last_reload_success_timestamp_seconds';

async function value(metrics: Metrics, name: string): Promise<number | undefined> {
  return sampleValue(parseExposition(await metrics.exposition()), name);
}

describe('the last failed reload time', () => {
  it('is 0 until a reload fails, so no failure never reads as newer than the last success', async () => {
    const metrics = createMetrics({ processMetrics: false }, { now: () => 1_700_000_000_000 });
    metrics.policyReloaded({ generation: 1, rules: 1, hash: 'aaa' });
    expect(await value(metrics, FAILURE)).toBe(0);
    expect(await value(metrics, SUCCESS)).toBe(1_700_000_000);
  });

  it('moves past the last success when the newest reload fails, and falls behind it when a later one succeeds', async () => {
    let now = 1_700_000_000_000;
    const metrics = createMetrics({ processMetrics: false }, { now: () => now });
    metrics.policyReloaded({ generation: 1, rules: 1, hash: 'aaa' });
    now += 5_000;
    metrics.policyReloadFailed();
    expect(await value(metrics, FAILURE)).toBe(1_700_000_005);
    expect(await value(metrics, FAILURE)).toBeGreaterThan((await value(metrics, SUCCESS))!);
    now += 5_000;
    metrics.policyReloaded({ generation: 2, rules: 1, hash: 'bbb' });
    expect(await value(metrics, FAILURE)).toBeLessThan((await value(metrics, SUCCESS))!);
  });
});

describe('meshwarden_ready', () => {
  it('reads not ready (0) until the server tells its readiness', async () => {
    const metrics = createMetrics({ processMetrics: false });
    expect(await value(metrics, 'meshwarden_ready')).toBe(0);
  });

  it('says 1 or 0 as readiness is at each scrape', async () => {
    let ready = false;
    const metrics = createMetrics({ processMetrics: false });
    metrics.attach({ ready: () => ready });
    expect(await value(metrics, 'meshwarden_ready')).toBe(0);
    ready = true;
    expect(await value(metrics, 'meshwarden_ready')).toBe(1);
  });
});
