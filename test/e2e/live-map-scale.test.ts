/**
 * The live map stays usable at 2,000 nodes and 10,000 edges (issue 18's scale target), fed
 * through the real Check path and drawn in a real Chromium. The bounds are generous, there
 * to catch a page that hangs, not to measure: bench/ui-map.ts reports the figures.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCALE, feedScaleTraffic, measureLiveMap, scalePolicies } from '../../bench/ui-map-measure.js';
import { chromiumFound } from '../helpers/browser.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

let server: ServerProcess;

describe.runIf(chromiumFound('the live map at scale'))('the live map with 2,000 nodes and 10,000 edges', () => {
  beforeAll(async () => {
    const dir = tempDir('meshwarden-live-map-scale-');
    writeFileSync(join(dir, 'policies.yaml'), scalePolicies());
    server = await startServer({
      configDir: dir,
      configText: ['policies: ["policies.yaml"]', 'decisionLog: { output: "off" }', 'admin: { ui: true }', 'flowGraph: { maxEdges: 20000 }'].join('\n'),
    });
    await feedScaleTraffic(server.grpc);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('draws them all and answers a filter and a click while a person still waits', async () => {
    const figures = await measureLiveMap(`http://${server.admin}`);
    expect({ nodes: figures.nodes, edges: figures.edges }).toEqual({ nodes: SCALE.workloads + SCALE.services, edges: SCALE.edges });
    expect(figures.firstRenderMs).toBeLessThan(60_000);
    expect(figures.filterMs).toBeLessThan(5_000);
    expect(figures.clickMs).toBeLessThan(5_000);
  }, 180_000);
});
