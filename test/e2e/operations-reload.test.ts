/**
 * Hot reload under traffic, against a real server process: 100 policy changes, some of them
 * broken files, picked up by the file watch while clients send Checks without pause. No Check
 * may fail, every answer must be the decision of the snapshot it names, a broken file keeps
 * the last good one, and SIGHUP reloads when the watch is off.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { metric, policyInfo, writeAtomically } from './operations-support.js';

const CALLER = 'spiffe://mesh.test/ns/shop/sa/cart';
const POLL = { timeout: 20_000, interval: 25 };
const RELOADS = Number(process.env['MESHWARDEN_RELOADS'] ?? 100);
const CLIENTS = 4;

/** Version v allows /toggle when v is even and denies it when odd, naming itself `toggle-v`. */
const toggle = (version: number) => `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: toggle-${version} }
spec:
  action: ${version % 2 === 0 ? 'ALLOW' : 'DENY'}
  rules: [{ to: [{ operation: { paths: ["/toggle"] } }] }]
`;

/** Broken in each way an operator breaks a file: syntax, an unknown field, a bad value. */
const BROKEN = [
  'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: broken\n',
  'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: broken }\nspec:\n  acton: ALLOW\n',
  'apiVersion: meshwarden.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: broken }\nspec:\n  action: ALLOW\n  rules: [{ to: [{ operation: { paths: ["no-slash"] } }] }]\n',
];

interface Answer {
  readonly generation: number;
  readonly decision: string;
  readonly policy: string;
}

/** Clients that send the same Check back to back until stopped, keeping every answer. */
class Traffic {
  readonly answers: Answer[][] = [];
  readonly failures: unknown[] = [];
  #running = true;
  readonly #done: Promise<void>[] = [];

  constructor(clients: readonly CheckClient[]) {
    clients.forEach((client, i) => {
      this.answers[i] = [];
      this.#done.push(this.#loop(client, this.answers[i]!));
    });
  }

  get count(): number {
    return this.answers.reduce((sum, list) => sum + list.length, 0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#done);
  }

  async #loop(client: CheckClient, into: Answer[]): Promise<void> {
    while (this.#running) {
      try {
        const meta = structToJson((await client.check(httpCheck({ principal: CALLER, path: '/toggle' }))).dynamicMetadata);
        into.push({ generation: Number(meta['generation']), decision: String(meta['decision']), policy: String(meta['policy'] ?? '') });
      } catch (error) {
        this.failures.push(error);
        // a server that fails every call fails fast: keep the evidence, not a million copies
        if (this.failures.length >= 100) return;
      }
    }
  }
}

/** What version v's answers must say. */
const expectedDecision = (policy: string) => (Number(policy.replace('toggle-', '')) % 2 === 0 ? 'allow' : 'deny');

describe('100 reloads through the file watch while Checks run', () => {
  let server: ServerProcess;
  const clients: CheckClient[] = [];
  let dir: string;
  let scratch: string;
  let file: string;

  beforeAll(async () => {
    const root = tempDir('meshwarden-ops-reload-');
    dir = join(root, 'policies');
    scratch = join(root, 'scratch');
    mkdirSync(dir);
    mkdirSync(scratch);
    file = join(dir, 'toggle.yaml');
    writeFileSync(file, toggle(0));
    server = await startServer({
      configDir: root,
      configText: ['policies: [policies]', 'reload: { watch: true, debounce: 20ms }', 'decisionLog: { output: "off" }'].join('\n'),
    });
    for (let i = 0; i < CLIENTS; i++) clients.push(new CheckClient(server.grpc, { deadlineMs: 20_000 }));
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.stop();
  });

  it('answers every Check, each with the decision of the snapshot it names, and keeps the last good one through broken files', async () => {
    const traffic = new Traffic(clients);
    const failures = metric(server.admin, 'meshwarden_policy_reloads_total', { result: 'failure' });
    const seen = (policy: string) => () => traffic.answers.some((list) => list.at(-1)?.policy === policy);
    let version = 0;
    let broken = 0;
    for (let step = 1; step <= RELOADS; step++) {
      const countBefore = traffic.count;
      if (step % 5 === 0) {
        const before = await policyInfo(server.admin);
        const failed = await failures();
        writeAtomically(file, BROKEN[broken++ % BROKEN.length]!, scratch);
        await expect.poll(failures, POLL).toBeGreaterThan(failed);
        expect((await policyInfo(server.admin)).generation).toBe(before.generation);
      } else {
        version++;
        writeAtomically(file, toggle(version), scratch);
        await expect.poll(seen(`toggle-${version}`), POLL).toBe(true);
      }
      // the clients keep going through each change
      await expect.poll(() => traffic.count, POLL).toBeGreaterThan(countBefore + CLIENTS);
      if (traffic.failures.length > 0) break;
    }
    await traffic.stop();

    expect(traffic.failures).toEqual([]);
    const all = traffic.answers.flat();
    expect(all.length).toBeGreaterThan(RELOADS * CLIENTS);
    // every answer is its snapshot's decision, and a generation never names two policies
    const policyOf = new Map<number, string>();
    for (const answer of all) {
      expect(answer.decision, `${answer.policy} at generation ${answer.generation}`).toBe(expectedDecision(answer.policy));
      expect(policyOf.get(answer.generation) ?? answer.policy).toBe(answer.policy);
      policyOf.set(answer.generation, answer.policy);
    }
    // each client saw generations and versions only move forward
    for (const list of traffic.answers) {
      const generations = list.map((a) => a.generation);
      const versions = list.map((a) => Number(a.policy.replace('toggle-', '')));
      expect(generations).toEqual([...generations].sort((a, b) => a - b));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    expect(await failures()).toBe(broken);
    expect(await metric(server.admin, 'meshwarden_policy_reloads_total', { result: 'success' })()).toBeGreaterThanOrEqual(version + 1);
    const info = await policyInfo(server.admin);
    expect(info.generation).toBe(Math.max(...policyOf.keys()));
    expect(policyOf.get(info.generation)).toBe(`toggle-${version}`);
    expect(server.logs.filter((l) => l['msg'] === 'policies failed to load; keeping the snapshot in service')).toHaveLength(broken);
  }, 240_000);
});

describe('SIGHUP', () => {
  let server: ServerProcess;
  let client: CheckClient;
  let file: string;

  beforeAll(async () => {
    const root = tempDir('meshwarden-ops-sighup-');
    file = join(root, 'toggle.yaml');
    writeFileSync(file, toggle(0));
    server = await startServer({ configDir: root, configText: 'policies: [toggle.yaml]\nreload: { watch: false }\n' });
    client = new CheckClient(server.grpc, { deadlineMs: 10_000 });
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  const policyNow = async () => structToJson((await client.check(httpCheck({ principal: CALLER, path: '/toggle' }))).dynamicMetadata)['policy'];

  it('reloads the policy files when the watch is off', async () => {
    writeFileSync(file, toggle(1));
    expect(await policyNow()).toBe('toggle-0');
    server.child.kill('SIGHUP');
    await expect.poll(policyNow, POLL).toBe('toggle-1');
    expect((await policyInfo(server.admin)).generation).toBe(2);
  });

  it('keeps the snapshot in service when the file is broken, and logs file:line:col', async () => {
    const failures = metric(server.admin, 'meshwarden_policy_reloads_total', { result: 'failure' });
    writeFileSync(file, BROKEN[1]!);
    server.child.kill('SIGHUP');
    await expect.poll(failures, POLL).toBe(1);
    expect(await policyNow()).toBe('toggle-1');
    const logged = await server.waitForLog((l) => l['msg'] === 'policies failed to load; keeping the snapshot in service');
    expect(String((logged['errors'] as string[])[0])).toMatch(new RegExp(`^${file}:5:3: unknown field "acton"`));
    expect((await policyInfo(server.admin)).generation).toBe(2);
  });

  it('keeps serving after many SIGHUPs in a row, and ends on the last content', async () => {
    for (let version = 2; version <= 11; version++) {
      writeFileSync(file, toggle(version));
      server.child.kill('SIGHUP');
    }
    await expect.poll(policyNow, POLL).toBe('toggle-11');
    expect(await client.health()).toBe('SERVING');
  });
});
