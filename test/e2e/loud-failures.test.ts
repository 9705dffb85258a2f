/**
 * Failures an operator meets in the first hour, against the built server as a real process:
 * each is said, with what it means, where the operator looks (log, `/readyz`, `/policy`,
 * metrics), and none floods the log or leaves a process half running.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { adminGet, metric, policyInfo } from './operations-support.js';

const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

const failedToLoad = (line: Record<string, unknown>) => String(line['msg']).startsWith('trust material failed to load');

describe('a trust bundle missing from a directory that exists', () => {
  let server: ServerProcess;
  let bundles: string;
  let missing: string;

  beforeAll(async () => {
    const dir = tempDir();
    bundles = join(dir, 'bundles');
    mkdirSync(bundles);
    missing = join(bundles, 'prod.example.json');
    copyFileSync(join(REPO_ROOT, 'examples/identity/bundles/cluster.local.json'), join(bundles, 'cluster.local.json'));
    const config = [
      `policies: [${join(REPO_ROOT, 'examples/policies')}]`,
      'identity:',
      '  trustDomains:',
      '    prod.example: { bundle: ./bundles/prod.example.json }',
      '    cluster.local: { bundle: ./bundles/cluster.local.json }',
    ].join('\n');
    server = await startServer({ configText: config, configDir: dir });
    servers.push(server);
  });

  it('is logged at start with its path and the cause', async () => {
    const line = await server.waitForLog(failedToLoad);
    expect(line['msg']).toBe(
      `trust material failed to load: trust bundle prod.example: ENOENT: no such file or directory, open '${missing}'; ` +
        'nothing loaded from it: Checks that need its keys are denied (identity_unavailable) and the server is not ready',
    );
    expect(line['keyFile']).toMatchObject({ name: 'prod.example', path: missing, code: 'ERR_BUNDLE_READ' });
  });

  it('is the reason /readyz gives, and /policy lists it', async () => {
    expect(await adminGet(server.admin, '/readyz')).toEqual({
      status: 503,
      body: `not ready: trust bundle prod.example: ENOENT: no such file or directory, open '${missing}'\n`,
    });
    expect((await policyInfo(server.admin))['trustMaterial']).toEqual({
      loaded: false,
      failing: [expect.objectContaining({ name: 'prod.example', path: missing, code: 'ERR_BUNDLE_READ', keptLastGood: false })],
    });
  });

  it('is counted: one trust domain unavailable, one failed load', async () => {
    expect(await metric(server.admin, 'meshwarden_trust_material_files', { source: 'trust_domain', state: 'unavailable' })()).toBe(1);
    expect(await metric(server.admin, 'meshwarden_trust_material_load_failures_total', { source: 'trust_domain', cause: 'unreadable' })()).toBe(1);
  });

  it('is not logged again while the watcher keeps waking for a neighbour file (3 s, 75 changes)', async () => {
    // every change of the directory woke a re-read of every file and a log line for the missing one (~40 lines a second)
    const neighbour = join(bundles, 'cluster.local.json');
    for (let i = 0; i < 75; i++) {
      utimesSync(neighbour, new Date(), new Date(Date.now() + i));
      await new Promise((resolve) => setTimeout(resolve, 40)); // past the watcher's 25 ms debounce: each change is told
    }
    const errorLines = server.logs.filter((line) => line['level'] === 50);
    expect(errorLines).toEqual([expect.objectContaining({ msg: expect.stringMatching(/^trust material failed to load: trust bundle prod.example: ENOENT/) })]);
    expect(await metric(server.admin, 'meshwarden_trust_material_load_failures_total', { source: 'trust_domain', cause: 'unreadable' })()).toBe(1);
  });

  it('turns the server ready once the file is written, and says so', async () => {
    copyFileSync(join(REPO_ROOT, 'examples/identity/bundles/prod.example.json'), missing);
    await server.waitForLog((line) => line['msg'] === 'trust material loaded' && (line['event'] as { name?: string })?.name === 'prod.example');
    await expect.poll(async () => (await adminGet(server.admin, '/readyz')).status, { timeout: 5_000 }).toBe(200);
  });
});

describe('a trust bundle missing under serve --workers 2', () => {
  it("is the reason the primary's /readyz gives, in the workers' words, once", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bundles'));
    const missing = join(dir, 'bundles', 'prod.example.json');
    const config = [
      `policies: [${join(REPO_ROOT, 'examples/policies')}]`,
      'identity:',
      '  trustDomains:',
      '    prod.example: { bundle: ./bundles/prod.example.json }',
    ].join('\n');
    const server = await startServer({ configText: config, configDir: dir, args: ['--workers', '2'] });
    servers.push(server);
    const reason = `trust bundle prod.example: ENOENT: no such file or directory, open '${missing}'`;
    await expect
      .poll(async () => (await adminGet(server.admin, '/readyz')).body, { timeout: 10_000 })
      .toBe(`not ready: 2 of 2 workers not ready: ${reason}\n`);
  });
});

interface Exit {
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `meshwarden serve ARGS` to its exit (at most `timeoutMs`; a process still running then is killed and fails the test). */
function serveUntilExit(args: readonly string[], timeoutMs = 15_000): Promise<Exit> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, stderr: `${stderr}\n(still running after ${timeoutMs} ms)` });
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a listen address already in use', () => {
  let busy: Server;
  let address: string;

  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(busy.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it.each([
    ['admin', ['--admin', 'ADDRESS', '--grpc', '127.0.0.1:0']],
    ['gRPC', ['--grpc', 'ADDRESS', '--admin', '127.0.0.1:0']],
  ])('on the %s port with --workers 1: the process exits 1 with the message', async (_port, flags) => {
    const args = [...flags.map((flag) => (flag === 'ADDRESS' ? address : flag)), '--workers', '1', '--policy', 'examples/policies'];
    const exit = await serveUntilExit(args);
    expect(exit.code, exit.stderr).toBe(1);
    const message = exit.stderr.split('\n').find((line) => line.startsWith('meshwarden serve: '));
    expect(message).toContain('EADDRINUSE');
    expect(message).toContain(address);
  });
});

describe('policies that do not load at start', () => {
  it('say that there is no snapshot to keep and that the process exits 1, and it does', async () => {
    const exit = await serveUntilExit(['--policy', 'test/fixtures/policies/invalid', '--grpc', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('policies failed to load; no snapshot in service yet: not starting (exit 1)');
    expect(exit.stderr).toContain('meshwarden serve: policies do not load, so there is no snapshot to serve; not starting (exit 1):');
    expect(exit.stderr).not.toContain('keeping the snapshot in service');
  });
});
