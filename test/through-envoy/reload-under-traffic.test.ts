/**
 * A policy change picked up by meshwarden's file watcher while Envoy carries load: the decision
 * switches, no request fails (no 5xx), and no request sent after meshwarden logged the new
 * snapshot as loaded is decided by the old one (the snapshot is swapped before that line is
 * written, and the decision cache is keyed by generation).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appCluster, bootstrap, httpListener, meshwardenCluster } from '../helpers/envoy/bootstrap.js';
import { describeWithEnvoy } from '../helpers/envoy/describe-with-envoy.js';
import { send } from '../helpers/envoy/http-client.js';
import { startStack, type Stack } from '../helpers/envoy/stack.js';
import { tempDir } from '../helpers/server-process.js';
import { TRANSPORTS } from '../helpers/transports.js';

const allowing = (path: string) => `
apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: reads }
spec:
  target: { services: ["shop"] }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["${path}"] } }] }]
`;

/** The first set allows /items/*; the second allows only /orders/*; the third /items/* again. */
const SETS = [allowing('/items/{*}'), allowing('/orders/{*}'), allowing('/items/{*}')];

interface Sent {
  readonly sentAt: number;
  readonly status: number | string;
}

describeWithEnvoy.each(TRANSPORTS)('a policy reload under traffic through Envoy (meshwarden on %s)', (transport) => {
  const configDir = tempDir();
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      transport,
      configDir,
      // no decision lines: thousands of them would only slow the process under test
      meshwardenConfig: 'policies: [./policies.yaml]\nreload: { debounce: 50ms }\ndecisionLog: { output: "off" }',
      files: { 'policies.yaml': SETS[0]! },
      envoy: ({ grpc, upstream }) => bootstrap({
        listeners: [httpListener({ name: 'inbound', routes: [{ name: 'shop', match: { prefix: '/' }, service: 'shop' }] })],
        clusters: [appCluster(upstream), meshwardenCluster(grpc)],
      }),
    });
  });
  afterAll(async () => stack?.stop());

  /** Replaces the policy file as an operator's tooling does: a new file renamed over the old one. */
  const replacePolicies = (text: string, generation: number) => {
    const next = join(configDir, `.policies.yaml.${generation}`);
    writeFileSync(next, text);
    renameSync(next, join(configDir, 'policies.yaml'));
  };

  it('switches the decision with no failed request, and nothing sent after "policies loaded" is decided by the old set', async () => {
    const sent: Sent[] = [];
    let running = true;
    const deadline = Date.now() + 8_000;
    // 4 callers, one GET /items/N at a time each, for as long as the reloads take (at most 8 s)
    const caller = async (id: number) => {
      for (let i = 0; i < 10_000 && running && Date.now() < deadline; i++) {
        const sentAt = Date.now();
        const status = await send(stack.port('inbound'), `/items/${id}-${i % 50}`).then((a) => a.status, (e: Error) => e.message);
        sent.push({ sentAt, status });
      }
    };
    const traffic = Promise.all([0, 1, 2, 3].map(caller));
    const loadedAt: number[] = [];
    const writtenAt: number[] = [];
    try {
      for (const generation of [2, 3]) {
        await sleep(500);
        writtenAt.push(Date.now());
        replacePolicies(SETS[generation - 1]!, generation);
        const line = await stack.meshwarden.waitForLog((l) => l['msg'] === 'policies loaded' && l['generation'] === generation, 5_000);
        loadedAt.push(Number(line['time'])); // pino: epoch ms, the test's clock (same machine)
      }
      await sleep(500);
    } finally {
      running = false;
      await traffic;
    }

    const [second, third] = loadedAt as [number, number];
    const [, thirdWritten] = writtenAt as [number, number];
    const during = (from: number, to: number) => sent.filter((s) => s.sentAt > from && s.sentAt < to);
    console.log(`[${transport}] ${sent.length} requests; generation 2 loaded ${second - sent[0]!.sentAt} ms in, generation 3 ${third - second} ms later`);
    expect(sent.filter((s) => typeof s.status !== 'number' || s.status >= 500)).toEqual([]);
    // sent before the first change: allowed; after "generation 2 loaded" (and before the next change): denied, every one;
    // after "generation 3 loaded": allowed again, none served from a decision cached under generation 2
    expect(sent.filter((s) => s.sentAt < writtenAt[0]!).every((s) => s.status === 200)).toBe(true);
    const denying = during(second, thirdWritten);
    const allowingAgain = sent.filter((s) => s.sentAt > third);
    expect(denying.length).toBeGreaterThan(20);
    expect(allowingAgain.length).toBeGreaterThan(20);
    expect(denying.filter((s) => s.status !== 403)).toEqual([]);
    expect(allowingAgain.filter((s) => s.status !== 200)).toEqual([]);
  });
});
