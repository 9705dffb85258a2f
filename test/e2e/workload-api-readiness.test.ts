/**
 * `meshwarden serve` fed by the Workload API, against a TEST DOUBLE of the agent (grpc-js on
 * the official proto, not SPIRE): /readyz says why it is not ready while the agent cannot be
 * reached, turns ready once both bundle streams delivered, and the metrics count the updates.
 */
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT, startServer, type ServerProcess } from '../helpers/server-process.js';
import { TestPki } from '../identity/helpers/pki.js';
import { WorkloadApiDouble } from '../identity/helpers/workload-api-double.js';
import { adminGet } from './operations-support.js';

const WAIT = { timeout: 10_000, interval: 50 };

describe('meshwarden serve with identity.workloadApi', () => {
  const agent = new WorkloadApiDouble();
  let server: ServerProcess;

  afterAll(async () => {
    await server?.stop();
    await agent.stop();
  });

  it('is not ready, saying why, while the agent cannot be reached', async () => {
    const config = [`policies: [${join(REPO_ROOT, 'examples/policies')}]`, 'identity:', `  workloadApi: { socket: "${agent.target}" }`].join('\n');
    server = await startServer({ configText: config });
    await vi.waitUntil(async () => (await adminGet(server.admin, '/readyz')).body.includes('Workload API'), WAIT);
    const readyz = await adminGet(server.admin, '/readyz');
    expect(readyz.status).toBe(503);
    expect(readyz.body).toMatch(/^not ready: Workload API unix:.*agent\.sock \((X\.509|JWT) bundles\): UNAVAILABLE/);
  });

  it('turns ready once both bundle streams delivered, and counts the updates', async () => {
    const root = new TestPki().root('wl-root', 'example.org');
    agent.send('x509', { 'spiffe://example.org': new X509Certificate(root.pem).raw });
    agent.send('jwt', { 'spiffe://example.org': Buffer.from('{"keys":[]}') });
    await agent.start();
    await vi.waitUntil(async () => (await adminGet(server.admin, '/readyz')).status === 200, WAIT);
    const metrics = (await adminGet(server.admin, '/metrics')).body;
    expect(metrics).toMatch(/meshwarden_workload_api_updates_total\{stream="x509",result="applied"\} 1/);
    expect(metrics).toMatch(/meshwarden_workload_api_reconnects_total\{stream="jwt"\} [1-9]/);
  });
});
