/**
 * Starts one contender (ceiling, baseline or `meshwarden serve`) as a child process on a
 * loopback port chosen by the kernel, and reads its bound addresses and pids from the JSON
 * "listening" line each of them prints on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunningServer {
  readonly name: string;
  readonly grpc: string;
  /** meshwarden's HTTP ext_authz listener, when it has one. */
  readonly http?: string;
  readonly admin?: string;
  /** The process and, for a cluster, its workers: whose CPU time a request costs. */
  readonly pids: readonly number[];
  readonly command: string;
  stop(): Promise<void>;
}

export interface StartSpec {
  readonly name: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly startTimeoutMs?: number;
}

export function startServer(spec: StartSpec): Promise<RunningServer> {
  const child = spawn(process.execPath, spec.args, { cwd: spec.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  const command = `node ${spec.args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`not listening within ${spec.startTimeoutMs ?? 60_000} ms`), spec.startTimeoutMs ?? 60_000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${spec.name}: ${why}\n$ ${command}\n${log.slice(-20).join('\n')}`));
    };
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
    createInterface({ input: child.stderr! }).on('line', (text) => {
      if (log.length < 200) log.push(text);
      const line = parseJson(text);
      if (line?.['msg'] !== 'listening') return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const workers = Array.isArray(line['workers']) ? (line['workers'] as number[]) : [];
      const admin = typeof line['admin'] === 'string' && line['admin'] !== 'off' ? line['admin'] : undefined;
      const http = typeof line['http'] === 'string' && line['http'] !== 'off' ? line['http'] : undefined;
      resolve({
        name: spec.name,
        grpc: String(line['grpc']),
        ...(admin ? { admin } : {}),
        ...(http ? { http } : {}),
        pids: [child.pid!, ...workers],
        command,
        stop: () => stop(child),
      });
    });
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited (at once if it never started). */
export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
