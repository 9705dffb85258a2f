/**
 * The scenario, at mesh scale, with the built CLI and real servers on loopback: a
 * synthetic mesh (35 services, 120 legitimate flows) is observed under a permissive policy,
 * `learn` turns the decision log into policy, the learned set shadows a permissive one with
 * no disagreement on legitimate traffic, then enforced it allows every legitimate flow and
 * denies every lateral-movement attempt of a compromised service; `diff` names exactly those
 * attempts as newly denied, and `graph` draws what was seen.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckClient, httpCheck, structToJson } from '../helpers/check-client.js';
import { CLI, REPO_ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { flowKey, meshFlowKey, syntheticMesh, type MeshRequest } from '../helpers/synthetic-mesh.js';
import { readDot } from '../workflow/dot-reader.js';
import { Scrape } from './operations-support.js';

const mesh = syntheticMesh();
/** Each legitimate flow is observed this often, each time with other ids: learn must template them to count them. */
const SENDS = 3;

const dir = tempDir('mw-scenario-');
const auditOnly = join(dir, 'audit-everything.yaml');
const permissive = join(dir, 'permissive');
const learned = join(dir, 'learned.yaml');
const observedLog = join(dir, 'observed.jsonl');
const shadowLog = join(dir, 'shadowed.jsonl');
const enforcedLog = join(dir, 'enforced.jsonl');

const AUDIT_EVERYTHING = `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: audit-everything }
spec:
  action: AUDIT
  rules: [{}]
`;
/** The permissive set written so that it does not lean on defaultAction: the same under ALLOW and DENY. */
const ALLOW_EVERYTHING = `apiVersion: meshwarden.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-everything }
spec:
  action: ALLOW
  rules: [{}]
`;

const run = promisify(execFile);

async function meshwarden(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function serve(policies: string[], defaultAction: 'ALLOW' | 'DENY', log: string, args: string[] = []): Promise<ServerProcess> {
  return startServer({
    args,
    configText: [
      `policies: ${JSON.stringify(policies)}`,
      `defaultAction: ${defaultAction}`,
      `decisionLog: { output: ${JSON.stringify(log)}, allowSampleRate: 1, maxLinesPerSecond: 100000 }`,
      'reload: { watch: false }',
    ].join('\n'),
  });
}

interface Answer {
  readonly request: MeshRequest;
  readonly metadata: Record<string, unknown>;
}

/** Sends every request (a few in flight at once, as sidecars would) and keeps each answer's dynamic metadata. */
async function send(server: ServerProcess, requests: readonly MeshRequest[]): Promise<Answer[]> {
  const client = new CheckClient(server.grpc, { deadlineMs: 10_000 });
  const answers: Answer[] = [];
  try {
    for (let at = 0; at < requests.length; at += 16) {
      const batch = requests.slice(at, at + 16);
      const decoded = await Promise.all(batch.map((r) => client.check(httpCheck({ principal: r.principal, service: r.service, method: r.method, path: r.path }))));
      decoded.forEach((d, i) => answers.push({ request: batch[i]!, metadata: structToJson(d.dynamicMetadata) }));
    }
  } finally {
    client.close();
  }
  return answers;
}

const lateralKeys = mesh.lateral.map(meshFlowKey).sort();
const legitimateRequests = (round: number) => mesh.legitimateRequests(SENDS, round);

beforeAll(async () => {
  writeFileSync(auditOnly, AUDIT_EVERYTHING);
  mkdirSync(permissive);
  writeFileSync(join(permissive, 'audit-everything.yaml'), AUDIT_EVERYTHING);
  writeFileSync(join(permissive, 'allow-everything.yaml'), ALLOW_EVERYTHING);
});

describe('a synthetic mesh', () => {
  it('has at least 30 services, 100 legitimate flows and 20 lateral-movement attempts, none of them legitimate', () => {
    const seen = new Set(mesh.legitimate.flatMap((f) => [f.source.name, f.destination.name]));
    expect(seen.size).toBeGreaterThanOrEqual(30);
    expect(mesh.legitimate.length).toBeGreaterThanOrEqual(100);
    expect(mesh.lateral.length).toBeGreaterThanOrEqual(20);
    const legitimate = new Set(mesh.legitimate.map(meshFlowKey));
    expect(lateralKeys.filter((k) => legitimate.has(k))).toEqual([]);
    expect(mesh.lateral.every((f) => f.source === mesh.compromised)).toBe(true);
    const called = new Set(mesh.legitimate.filter((f) => f.source === mesh.compromised).map((f) => f.destination.name));
    expect(mesh.lateral.filter((f) => !called.has(f.destination.name)).length).toBeGreaterThanOrEqual(10);
    expect(mesh.lateral.filter((f) => called.has(f.destination.name)).length).toBeGreaterThanOrEqual(5);
  });
});

// Real processes on a possibly loaded machine: each step gets a generous bound of its own.
describe('see → learn → shadow → enforce → diff → graph, at mesh scale', { timeout: 90_000 }, () => {
  let shadowServer: ServerProcess | undefined;

  afterAll(async () => {
    await shadowServer?.stop();
  });

  it('see: under defaultAction ALLOW and an AUDIT policy, every legitimate request is allowed and logged', async () => {
    const server = await serve([auditOnly], 'ALLOW', observedLog);
    try {
      const answers = await send(server, legitimateRequests(0));
      expect(answers.filter((a) => a.metadata['decision'] !== 'allow')).toEqual([]);
    } finally {
      expect(await server.stop()).toBe(0); // flushes the decision log
    }
    const lines = readFileSync(observedLog, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(mesh.legitimate.length * SENDS);
    expect(JSON.parse(lines[0]!)).toMatchObject({ decision: 'allow', reason: 'default_allow', audit: 'audit-everything' });
  });

  it('learn: --min-count counts templated ids together, one enforcing policy per destination, which `check` accepts', async () => {
    const destinations = new Set(mesh.legitimate.map((f) => f.destination.name));
    const result = await meshwarden('learn', '--from', observedLog, '--min-count', String(SENDS), '--mode', 'enforce', '--out', learned);
    expect(result).toMatchObject({ code: 0, stderr: `learned ${destinations.size} policies from ${mesh.legitimate.length * SENDS} requests\n` });
    const text = readFileSync(learned, 'utf8');
    expect(text).toContain(`min-count: ${SENDS}; dropped 0 flows (0 requests)`);
    expect(text).toContain('/{*}');
    expect(text).not.toMatch(/\/\d+(\/|"|$)/m); // no concrete id survived
    const check = await meshwarden('check', learned);
    expect(check).toMatchObject({ code: 0, stdout: expect.stringContaining(`ok: ${destinations.size} policies`) });
  });

  it('shadow: the learned set beside a permissive one disagrees on no legitimate request, and on every lateral attempt', async () => {
    shadowServer = await serve([permissive], 'DENY', shadowLog, ['--shadow-policy', learned]);
    const disagreements = async (labels: Record<string, string> = {}) => (await Scrape.of(shadowServer!.admin)).value('meshwarden_shadow_disagreements_total', labels);

    const legitimate = await send(shadowServer, legitimateRequests(1));
    expect(legitimate.filter((a) => a.metadata['decision'] !== 'allow')).toEqual([]);
    expect(await disagreements()).toBe(0);
    expect(shadowServer.logs.filter((l) => l['msg'] === 'shadow disagreement')).toEqual([]);

    const lateral = await send(shadowServer, mesh.lateralRequests(1));
    expect(lateral.filter((a) => a.metadata['decision'] !== 'allow')).toEqual([]); // the shadow never changes the answer
    expect(await disagreements({ enforced: 'allow', shadow: 'deny' })).toBe(mesh.lateral.length);
    expect(await disagreements({ enforced: 'deny', shadow: 'allow' })).toBe(0);
    const disagreementLines = () => shadowServer!.logs.filter((l) => l['msg'] === 'shadow disagreement');
    await expect.poll(() => disagreementLines().length, { timeout: 10_000 }).toBe(mesh.lateral.length); // stderr may trail the answers
    const logged = disagreementLines()
      .map((l) => `${l['source_principal']} ${l['destination']} ${l['method']} ${l['path']}`)
      .sort();
    expect(logged).toEqual(mesh.lateralRequests(1).map((r) => `${r.principal} ${r.service} ${r.method} ${r.path}`).sort());
    expect(await shadowServer.stop()).toBe(0);
  });

  it('enforce: with the learned set and defaultAction DENY, 100% of legitimate flows are allowed and 100% of lateral attempts denied', async () => {
    const server = await serve([learned], 'DENY', enforcedLog);
    try {
      const legitimate = await send(server, legitimateRequests(2));
      const refused = legitimate.filter((a) => a.metadata['decision'] !== 'allow' || a.metadata['policy'] !== `learned-${a.request.service}`);
      expect(refused.map((a) => `${meshFlowKey(a.request.flow)} ${JSON.stringify(a.metadata)}`)).toEqual([]);
      expect(legitimate).toHaveLength(mesh.legitimate.length * SENDS);

      const lateral = await send(server, mesh.lateralRequests(2));
      const letThrough = lateral.filter((a) => a.metadata['decision'] !== 'deny' || a.metadata['reason'] !== 'default_deny');
      expect(letThrough.map((a) => `${meshFlowKey(a.request.flow)} ${JSON.stringify(a.metadata)}`)).toEqual([]);
      expect(lateral).toHaveLength(mesh.lateral.length);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('diff: permissive → learned on the recorded traffic newly denies exactly the lateral attempts', async () => {
    const result = await meshwarden('diff', permissive, learned, '--requests', shadowLog, '--json');
    expect(result.code).toBe(0);
    const diff = JSON.parse(result.stdout) as {
      replayed: number;
      unchanged: number;
      newlyDenied: { source: string; destination: string; method: string; template: string; count: number }[];
      newlyAllowed: unknown[];
    };
    expect(diff.replayed).toBe(mesh.legitimate.length * SENDS + mesh.lateral.length);
    expect(diff.unchanged).toBe(mesh.legitimate.length * SENDS);
    expect(diff.newlyDenied.map(flowKey).sort()).toEqual(lateralKeys);
    expect(diff.newlyDenied.every((c) => c.count === 1)).toBe(true);
    expect(diff.newlyAllowed).toEqual([]);

    expect((await meshwarden('diff', permissive, learned, '--requests', shadowLog, '--fail-on-new-deny')).code).toBe(1);
    // The gate passes on the legitimate traffic alone: the learned set takes nothing away from it.
    expect((await meshwarden('diff', permissive, learned, '--requests', observedLog, '--fail-on-new-deny')).code).toBe(0);
  });

  it('graph: the enforced decision log draws every service seen, legitimate edges allowed, lateral ones red', async () => {
    const allowed = new Set(mesh.legitimate.map((f) => `${f.source.spiffeId} -> ${f.destination.name}`));
    const denied = new Set(mesh.lateral.map((f) => `${f.source.spiffeId} -> ${f.destination.name} red`));
    const nodes = new Set([...mesh.legitimate, ...mesh.lateral].flatMap((f) => [f.source.spiffeId, f.destination.name]));

    const dot = await meshwarden('graph', '--log', enforcedLog, '--format', 'dot');
    expect(dot.code).toBe(0);
    const graph = readDot(dot.stdout);
    expect([...graph.nodes.keys()].sort()).toEqual([...nodes].sort());
    const edges = graph.edges.map((e) => `${e.from} -> ${e.to}${e.attributes['color'] ? ' red' : ''}`).sort();
    expect(edges).toEqual([...allowed, ...denied].sort());

    const mermaid = await meshwarden('graph', '--log', enforcedLog, '--format', 'mermaid');
    expect(mermaid.code).toBe(0);
    const labels = new Map([...mermaid.stdout.matchAll(/^ {2}(n\d+)\["([^"]*)"\]$/gm)].map((m) => [m[1]!, m[2]!]));
    expect([...labels.values()].sort()).toEqual([...nodes].sort());
    const arrows = [...mermaid.stdout.matchAll(/^ {2}(n\d+) -->\|"[^"]*"\| (n\d+)$/gm)].map((m) => `${labels.get(m[1]!)} -> ${labels.get(m[2]!)}`);
    expect(arrows).toHaveLength(allowed.size + denied.size);
    const red = /^ {2}linkStyle ([\d,]+) /m.exec(mermaid.stdout)?.[1]?.split(',').map(Number) ?? [];
    expect(red.map((i) => `${arrows[i]} red`).sort()).toEqual([...denied].sort());
  });
});
