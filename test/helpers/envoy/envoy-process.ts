/**
 * A real Envoy as a child process: a bootstrap written to a temp dir, admin on a loopback
 * port Envoy picks (read back through `--admin-address-path`), listeners on ports Envoy picks
 * (read back from admin `/listeners`), ready when admin `/ready` says LIVE. Its log and the
 * access log file stay readable by the test; it stops by PID, SIGTERM then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../server-process.js';

export interface EnvoyOptions {
  readonly bin: string;
  /** The bootstrap, as Envoy's JSON: `admin` is filled in if absent. */
  readonly bootstrap: Record<string, unknown>;
  /** Where the bootstrap, admin address and logs go (default: a new temp dir). */
  readonly dir?: string;
  readonly startTimeoutMs?: number;
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warning' | 'error';
}

export interface EnvoyProcess {
  readonly dir: string;
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT` of the admin interface. */
  readonly admin: string;
  /** Bound port of each listener, by listener name. */
  readonly ports: ReadonlyMap<string, number>;
  /** Envoy's own log (stderr), one entry a line. */
  readonly log: readonly string[];
  port(listener: string): number;
  /** GET an admin path; the body as text. */
  adminGet(path: string): Promise<{ status: number; body: string }>;
  /** The access log file's lines parsed as JSON, once at least `count` are written (bounded). */
  accessLog(count?: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>;
}

/** Path the bootstraps of this harness give their access logs (see bootstrap.ts accessLog()). */
export const ACCESS_LOG = 'access.log';

let instances = 0;

/** Unique among concurrent test workers: Envoy's base id names its shared memory and domain socket. */
function baseId(): number {
  return (process.pid % 100_000) * 32 + (instances++ % 32);
}

export async function startEnvoy(options: EnvoyOptions): Promise<EnvoyProcess> {
  const dir = options.dir ?? tempDir('meshwarden-envoy-');
  const bootstrap = { admin: { address: loopback(0) }, ...options.bootstrap };
  const config = join(dir, 'bootstrap.json');
  const adminPath = join(dir, 'admin-address');
  writeFileSync(config, JSON.stringify(bootstrap, null, 2));
  const args = [
    '-c', config, '--concurrency', '1', '--base-id', String(baseId()), '--admin-address-path', adminPath,
    '--log-level', options.logLevel ?? 'info', '--file-flush-interval-msec', '50', '--drain-time-s', '0',
  ];
  const child = spawn(options.bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => log.push(line));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let exit: number | string | null | undefined;
  void exited.then((code) => (exit = code));
  const failure = (why: string) => new Error(`Envoy ${why}\nbootstrap: ${config}\nlog:\n${log.slice(-60).join('\n')}`);

  const stop = async (graceMs = 5_000) => {
    if (exit !== undefined) return exit;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    const admin = await until(deadline, () => (exit !== undefined ? fail(failure(`exited (${exit}) before its admin was up`)) : adminAddress(adminPath)));
    if (admin === undefined) throw failure('admin address never written');
    const adminGet = (path: string) => get(`${admin}${path}`);
    const ready = await until(deadline, async () => {
      if (exit !== undefined) throw failure(`exited (${exit}) before it was ready`);
      const answer = await adminGet('/ready').catch(() => undefined);
      return answer?.status === 200 ? true : undefined;
    });
    if (!ready) throw failure(`not ready within ${options.startTimeoutMs ?? 20_000} ms; /ready: ${(await adminGet('/ready').catch((e: Error) => ({ body: e.message }))).body}`);
    const ports = listenerPorts((await adminGet('/listeners?format=json')).body);
    return {
      dir, child, admin, ports, log,
      port(listener) {
        const port = ports.get(listener);
        if (port === undefined) throw new Error(`Envoy has no listener named ${listener}: ${[...ports.keys()].join(', ')}`);
        return port;
      },
      adminGet,
      accessLog: (count = 1, timeoutMs = 5_000) => readAccessLog(join(dir, ACCESS_LOG), count, timeoutMs),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function loopback(port: number): Record<string, unknown> {
  return { socket_address: { address: '127.0.0.1', port_value: port } };
}

function fail(error: Error): never {
  throw error;
}

/** Calls `probe` every 50 ms until it returns a value or `deadline` (epoch ms) passes. */
async function until<T>(deadline: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T | undefined> {
  for (let attempt = 0; attempt < 2_000 && Date.now() < deadline; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  return undefined;
}

function adminAddress(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const address = readFileSync(path, 'utf8').trim();
  return address === '' ? undefined : `http://${address}`;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`))).on('error', reject).end();
  });
}

interface ListenerStatus {
  readonly name: string;
  readonly local_address?: { socket_address?: { port_value?: number } };
}

function listenerPorts(json: string): ReadonlyMap<string, number> {
  const statuses = (JSON.parse(json) as { listener_statuses?: ListenerStatus[] }).listener_statuses ?? [];
  return new Map(statuses.map((s) => [s.name, s.local_address?.socket_address?.port_value ?? 0]));
}

async function readAccessLog(path: string, count: number, timeoutMs: number): Promise<Record<string, unknown>[]> {
  const read = () => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '') : []);
  const lines = (await until(Date.now() + timeoutMs, () => {
    const now = read();
    return now.length >= count ? now : undefined;
  })) ?? read();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}
