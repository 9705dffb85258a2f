/**
 * The workflow tools pointed at the wrong thing say what is wrong and what to do: `graph
 * --flows` at an address where no server listens, `learn --from` a file without decisions.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../helpers/server-process.js';

function meshwarden(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A loopback address nothing listens on: a port the kernel gave and took back. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

describe('graph --flows against a server that is not there', () => {
  it('names the refused connection and says where the admin address is found', async () => {
    const address = await deadAddress();
    const run = meshwarden('graph', '--flows', `http://${address}/flows`);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`meshwarden graph: http://${address}/flows: connect ECONNREFUSED ${address}\n`);
    expect(run.stderr).toContain('Is meshwarden serve running with its admin server at that address?');
    expect(run.stderr).not.toContain('fetch failed');
  });
});

describe('learn --from a file without decision lines', () => {
  const file = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'meshwarden-learn-')), 'decisions.jsonl');
    writeFileSync(path, text);
    return path;
  };

  it('exits 1, saying what the file held and what learn reads', () => {
    const path = file('{"level":30,"msg":"listening"}\nnot json\n');
    const run = meshwarden('learn', '--from', path);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${path}: no decision lines (of its 2 lines, 1 are not JSON and 1 are JSON without a decision's fields)`);
    expect(run.stderr).toContain('meshwarden serve --config config.yaml > decisions.jsonl');
    expect(run.stdout).toBe('');
  });

  it('exits 1 on an empty file', () => {
    const run = meshwarden('learn', '--from', file(''));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no decision lines (it is empty)');
  });
});
