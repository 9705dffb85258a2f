/** The build a scrape comes from: meshwarden_build_info{version,node}, the same across workers. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createClusterMetricsAggregator, createMetrics } from '../../src/telemetry/index.js';
import { parseExposition, sampleValue, seriesOf } from './exposition.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('meshwarden_build_info', () => {
  it("is 1, labelled with package.json's version and the Node.js version", async () => {
    const samples = parseExposition(await createMetrics({ processMetrics: false }).exposition());
    expect(seriesOf(samples, 'meshwarden_build_info')).toHaveLength(1);
    expect(sampleValue(samples, 'meshwarden_build_info', { version: VERSION, node: process.version })).toBe(1);
  });

  it('stays 1 when the primary aggregates it from several workers', async () => {
    const workers = [createMetrics({ processMetrics: false }), createMetrics({ processMetrics: false })];
    const aggregator = createClusterMetricsAggregator({ peers: () => [], local: workers.map((metrics) => metrics.registry) });
    const samples = parseExposition(await aggregator.metrics());
    expect(sampleValue(samples, 'meshwarden_build_info', { version: VERSION, node: process.version })).toBe(1);
  });
});
