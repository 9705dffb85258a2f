/**
 * Runs the built `meshwarden serve` as a real child process on loopback ports chosen by the
 * kernel, and reads the bound addresses from its "listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO_ROOT, 'dist/cli/main.js');

export interface ServerProcess {
  readonly grpc: string;
  /** The HTTP ext_authz listener's address, or "off". */
  readonly http: string;
  readonly admin: string;
  readonly child: ChildProcess;
  /** Operational log lines (stderr), parsed as JSON where they are JSON. */
  readonly logs: Record<string, unknown>[];
  /** Decision log lines (stdout), parsed. */
  readonly decisions: Record<string, unknown>[];
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves when a log line satisfies `predicate` (bounded by `timeoutMs`). */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface StartOptions {
  /** Config file text (YAML); written to a temp dir. Relative paths in it resolve from `configDir`. */
  readonly configText?: string;
  readonly configDir?: string;
  readonly args?: readonly string[];
  readonly startTimeoutMs?: number;
}

export function tempDir(prefix = 'meshwarden-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const args = ['serve', '--grpc', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...(options.args ?? [])];
  if (options.configText !== undefined) {
    const file = join(options.configDir ?? tempDir(), 'meshwarden.yaml');
    writeFileSync(file, options.configText);
    args.push('--config', file);
  }
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  const decisions: Record<string, unknown>[] = [];
  const waiters = new Set<(line: Record<string, unknown>) => void>();
  collect(child.stdout!, decisions, () => {});
  collect(child.stderr!, logs, (line) => waiters.forEach((w) => w(line)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog: ServerProcess['waitForLog'] = (predicate, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const found = logs.find(predicate);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching log line within ${timeoutMs} ms; log so far:\n${JSON.stringify(logs, null, 1)}`));
      }, timeoutMs);
      const waiter = (line: Record<string, unknown>) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
      void exited.then(() => waiter({ msg: '__exit__' }));
    });

  const listening = await waitForLog((l) => l['msg'] === 'listening' || l['msg'] === '__exit__', options.startTimeoutMs);
  if (listening['msg'] !== 'listening') {
    throw new Error(`server exited before listening:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
  }
  return {
    grpc: String(listening['grpc']),
    http: String(listening['http'] ?? 'off'),
    admin: String(listening['admin']),
    child,
    logs,
    decisions,
    waitForLog,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function collect(stream: NodeJS.ReadableStream, into: Record<string, unknown>[], onLine: (l: Record<string, unknown>) => void) {
  createInterface({ input: stream }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { text };
    }
    into.push(line);
    onLine(line);
  });
}
