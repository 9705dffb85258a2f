/**
 * `meshwarden serve` refuses to start with a collector caFile it cannot read, naming the
 * option and the path (single process, and under --workers, where each worker loads it).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, tempDir } from '../helpers/server-process.js';

async function serveExit(config: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const dir = tempDir('meshwarden-ca-start-');
  writeFileSync(join(dir, 'meshwarden.yaml'), `policies: ["${REPO_ROOT}/examples/policies"]\n${config}\n`);
  const child = spawn(process.execPath, [CLI, 'serve', '--grpc', '127.0.0.1:0', '--admin', 'off', '--config', join(dir, 'meshwarden.yaml'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000); // a server that started would be killed here and fail the test
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stderr: stderr.replaceAll(dir, '<dir>') };
}

describe('meshwarden serve with a caFile it cannot read', () => {
  it('exits 1 naming decisionLog.sinks[0].caFile and the path resolved from the config file', async () => {
    const { code, stderr } = await serveExit('decisionLog: { output: off, sinks: [{ type: http, url: "https://127.0.0.1:9/logs", caFile: absent.pem }] }', []);
    expect(code).toBe(1);
    expect(stderr).toContain('decisionLog.sinks[0].caFile: cannot read <dir>/absent.pem (ENOENT)');
  });

  it('exits 1 naming tracing.otlp.caFile under --workers 2', async () => {
    const { code, stderr } = await serveExit('tracing: { otlp: { endpoint: "https://127.0.0.1:9/v1/traces", caFile: absent.pem } }', ['--workers', '2']);
    expect(code).toBe(1);
    expect(stderr).toContain('tracing.otlp.caFile: cannot read <dir>/absent.pem (ENOENT)');
  });
});
