/**
 * The microsegmentation workflow end to end, with the built CLI and a real server:
 * see (observe with defaultAction ALLOW, decision log, /flows) → learn → check → test →
 * diff → enforce. Each step runs `node dist/cli/main.js` as an operator would.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { CLI, REPO_ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { readDot } from '../workflow/dot-reader.js';

const CHECKOUT = 'spiffe://prod.example/ns/checkout/sa/checkout';
const BATCH = 'spiffe://prod.example/ns/checkout/sa/batch';
const PROMETHEUS = 'spiffe://prod.example/ns/monitoring/sa/prometheus';

const run = promisify(execFile);
interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function meshwarden(...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const dir = tempDir('mw-workflow-');
const guardrails = join(dir, 'guardrails');
const decisionLog = join(dir, 'decisions.jsonl');
const learned = join(dir, 'learned.yaml');
const enforced = join(dir, 'enforced');

/** Observed traffic: what checkout, prometheus and batch really do (batch only once). */
const TRAFFIC = [
  ...[1, 2, 3].map(() => ({ principal: CHECKOUT, method: 'POST', path: '/v1/charges', service: 'payments' })),
  ...['1001', '1002', '8f14e45f-ceea-467f-a0e6-6c3c6a1ad7b2'].map((id) => ({ principal: CHECKOUT, path: `/v1/charges/${id}`, service: 'payments' })),
  ...[1, 2].map(() => ({ principal: CHECKOUT, path: '/v1/charges/export', service: 'payments' })),
  ...[1, 2, 3].map(() => ({ principal: PROMETHEUS, path: '/metrics', service: 'payments' })),
  { principal: BATCH, path: '/v1/charges/1001', service: 'payments' },
  { principal: CHECKOUT, path: '/debug/pprof', service: 'payments' },
];

let observing: ServerProcess;

beforeAll(async () => {
  mkdirSync(guardrails);
  copyFileSync(join(REPO_ROOT, 'examples/policies/guardrails.yaml'), join(guardrails, 'guardrails.yaml'));
  observing = await startServer({
    configText: [`policies: ["${guardrails}"]`, 'defaultAction: ALLOW', `decisionLog: { output: "${decisionLog}", allowSampleRate: 1 }`].join('\n'),
  });
  const client = new CheckClient(observing.grpc);
  try {
    for (const request of TRAFFIC) await client.check(httpCheck(request));
  } finally {
    client.close();
  }
});

afterAll(async () => {
  await observing?.stop();
});

describe('see → learn → simulate → test → enforce', () => {
  it('see: the live flow graph shows who called whom, the denied debug call in red', async () => {
    const graph = await meshwarden('graph', '--flows', `http://${observing.admin}/flows`);
    expect(graph.code).toBe(0);
    const edges = readDot(graph.stdout).edges.map((e) => `${e.from} -> ${e.to}${e.attributes['color'] ? ' red' : ''}`);
    expect(edges).toEqual([`${BATCH} -> payments`, `${CHECKOUT} -> payments`, `${CHECKOUT} -> payments red`, `${PROMETHEUS} -> payments`]);
  });

  it('learn: least-privilege policies from the decision log, which `meshwarden check` accepts', async () => {
    expect(await observing.stop()).toBe(0); // flushes the decision log
    const learn = await meshwarden('learn', '--from', decisionLog, '--min-count', '2', '--mode', 'enforce', '--out', learned);
    expect(learn).toMatchObject({ code: 0, stderr: 'learned 1 policy from 12 requests\n' });
    const text = readFileSync(learned, 'utf8');
    expect(text).toContain('dropped 1 flow (1 request) seen fewer times');
    expect(text).toContain('- /v1/charges/{*}');
    expect(text).not.toContain(BATCH);
    expect(await meshwarden('check', learned)).toMatchObject({ code: 0, stdout: expect.stringContaining('ok: 1 policy, 2 rules') });
  });

  it('simulate: enforcing the learned policy denies nothing that was observed often enough', async () => {
    mkdirSync(enforced);
    copyFileSync(join(guardrails, 'guardrails.yaml'), join(enforced, 'guardrails.yaml'));
    copyFileSync(learned, join(enforced, 'learned.yaml'));
    const forward = await meshwarden('diff', guardrails, enforced, '--requests', decisionLog, '--default-action', 'DENY', '--fail-on-new-deny');
    expect(forward.code).toBe(0);
    expect(forward.stdout).toContain('newly denied: 0 flows, 0 requests');
    expect(forward.stdout).toContain('newly allowed: 4 flows, 11 requests');
    const back = await meshwarden('diff', enforced, guardrails, '--requests', decisionLog, '--default-action', 'DENY', '--fail-on-new-deny');
    expect(back.code).toBe(1);
  });

  it('test: cases for the learned policy pass in CI, with JUnit output', async () => {
    const cases = join(dir, 'learned.cases.yaml');
    writeFileSync(
      cases,
      [
        '- name: checkout reads a charge it never read before (ids are generalized)',
        `  request: { method: GET, path: /v1/charges/424242, source: { principal: "${CHECKOUT}" }, contextExtensions: { service: payments } }`,
        '  expect: { decision: allow, policy: learned-payments }',
        '- name: checkout may not delete charges',
        `  request: { method: DELETE, path: /v1/charges/1, source: { principal: "${CHECKOUT}" }, contextExtensions: { service: payments } }`,
        '  expect: { decision: deny, reason: default_deny }',
        '- name: the guardrail still wins',
        `  request: { method: GET, path: /debug/pprof, source: { principal: "${CHECKOUT}" }, contextExtensions: { service: payments } }`,
        '  expect: { decision: deny, policy: deny-debug-endpoints }',
      ].join('\n'),
    );
    const junit = join(dir, 'junit.xml');
    const test = await meshwarden('test', enforced, '--cases', cases, '--junit', junit);
    expect(test).toMatchObject({ code: 0, stdout: expect.stringContaining('ok: 3 passed, 0 failed') });
    expect(readFileSync(junit, 'utf8')).toContain('tests="3" failures="0"');
  });

  it('enforce: the server with the learned policy allows observed flows and denies the rest', async () => {
    const server = await startServer({ configText: [`policies: ["${enforced}"]`, 'defaultAction: DENY'].join('\n') });
    const client = new CheckClient(server.grpc);
    try {
      const decide = async (request: Parameters<typeof httpCheck>[0]) => structToJson((await client.check(httpCheck(request))).dynamicMetadata)['reason'];
      expect(await decide({ principal: CHECKOUT, path: '/v1/charges/777', service: 'payments' })).toBe('policy_allow');
      expect(await decide({ principal: PROMETHEUS, path: '/metrics', service: 'payments' })).toBe('policy_allow');
      expect(await decide({ principal: BATCH, path: '/v1/charges/1001', service: 'payments' })).toBe('default_deny');
      expect(await decide({ principal: PROMETHEUS, method: 'POST', path: '/metrics', service: 'payments' })).toBe('default_deny');
    } finally {
      client.close();
      await server.stop();
    }
  });
});
