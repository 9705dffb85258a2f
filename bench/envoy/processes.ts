/**
 * The non-Node processes of the Envoy section: Envoy itself and opa-envoy-plugin (built from
 * source with Go into the ignored bench cache), on kernel-chosen free 127.0.0.1 ports, each
 * waited for until it says it is ready, each stopped by its own pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { stop } from '../load/server-process.js';

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly command: string;
  /** Last lines of its output, for errors. */
  tail(): string;
  stop(): Promise<void>;
}

/** A free loopback port (bound, read and released: another process could take it in between, rarely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function launch(name: string, file: string, args: string[], cwd?: string): Proc {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(l);
    if (lines.length > 400) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (error) => lines.push(`spawn error: ${error.message}`));
  return {
    name,
    pid: child.pid ?? -1,
    command: [file, ...args].join(' '),
    tail: () => lines.slice(-20).join('\n'),
    stop: () => stop(child),
  };
}

/** Polls `url` until it answers 200 (or `ok` accepts the body), within `timeoutMs`. */
export async function waitHttp(url: string, timeoutMs: number, proc: Proc, ok: (body: string) => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await response.text();
      if (response.ok && ok(body)) return;
      last = `${response.status} ${body.slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.stop();
  throw new Error(`${proc.name}: not ready within ${timeoutMs} ms (${url}: ${last})\n$ ${proc.command}\n${proc.tail()}`);
}

export function envoyVersion(): string | undefined {
  const run = spawnSync('envoy', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) return undefined;
  return /version: (\S+)/.exec(run.stdout)?.[1] ?? run.stdout.trim();
}

/** Envoy with one worker thread (a sidecar's usual setting, and the same for every scenario). */
export async function startEnvoy(name: string, configFile: string, adminPort: number, concurrency: number): Promise<Proc> {
  const proc = launch(name, 'envoy', ['-c', configFile, '--concurrency', String(concurrency), '--disable-hot-restart', '-l', 'warning', '--log-format', '%v']);
  await waitHttp(`http://127.0.0.1:${adminPort}/ready`, 30_000, proc, (body) => body.trim() === 'LIVE');
  return proc;
}

export async function startOpa(binary: string, configFile: string, regoFile: string, httpPort: number, cwd: string): Promise<Proc> {
  const proc = launch('opa-envoy-plugin', binary, ['run', '--server', '--addr', `127.0.0.1:${httpPort}`, '--config-file', configFile, '--log-level', 'error', '--disable-telemetry', regoFile], cwd);
  await waitHttp(`http://127.0.0.1:${httpPort}/health?plugins`, 60_000, proc);
  return proc;
}

/** opa-envoy-plugin's module version, pinned; the binary is built once into the bench cache. */
export const OPA_ENVOY_VERSION = 'v1.12.0-envoy';
const OPA_MODULE = 'github.com/open-policy-agent/opa-envoy-plugin';

export interface OpaBuild {
  readonly binary?: string;
  /** Why there is none. */
  readonly skipped?: string;
  readonly commands: string[];
}

/**
 * `go install MODULE/cmd/opa-envoy-plugin@VERSION` into `<cache>/go`. Where the module proxy
 * does not serve version lists or the checksum database (this machine: only the module
 * proxy's downloads), `go install` fails before building; then the module is downloaded
 * (checksum DB skipped for that one module: GONOSUMDB) and built in its own directory, with
 * its own go.mod and go.sum verifying every dependency.
 */
export function buildOpa(cacheDir: string, log: (line: string) => void, smoke: boolean): OpaBuild {
  const gobin = join(cacheDir, 'go');
  const binary = join(gobin, 'opa-envoy-plugin');
  const marker = join(gobin, `opa-envoy-plugin.${OPA_ENVOY_VERSION}`);
  const commands: string[] = [];
  if (existsSync(binary) && existsSync(marker)) return { binary, commands };
  if (spawnSync('go', ['version']).status !== 0) return { skipped: 'Go is not installed (needed to build opa-envoy-plugin)', commands };
  if (smoke) return { skipped: `opa-envoy-plugin not built yet (smoke mode never builds; a full run does, into ${gobin})`, commands };
  mkdirSync(gobin, { recursive: true });
  const env = { ...process.env, GOBIN: gobin };
  const run = (args: string[], extra: Record<string, string> = {}, cwd?: string) => {
    commands.push(`${Object.entries(extra).map(([k, v]) => `${k}=${v} `).join('')}go ${args.join(' ')}`);
    return spawnSync('go', args, { env: { ...env, ...extra }, encoding: 'utf8', timeout: 900_000, ...(cwd ? { cwd } : {}) });
  };
  log(`building opa-envoy-plugin ${OPA_ENVOY_VERSION} with Go (once; minutes)`);
  let r = run(['install', `${OPA_MODULE}/cmd/opa-envoy-plugin@${OPA_ENVOY_VERSION}`]);
  if (r.status !== 0) {
    log(`go install failed (${(r.stderr || '').trim().split('\n').pop()}); building from the downloaded module instead`);
    const dl = run(['mod', 'download', '-json', `${OPA_MODULE}@${OPA_ENVOY_VERSION}`], { GONOSUMDB: OPA_MODULE, GOFLAGS: '-mod=mod' }, cacheDir);
    const dir = dl.status === 0 ? (JSON.parse(dl.stdout) as { Dir?: string }).Dir : undefined;
    if (!dir) return { skipped: `opa-envoy-plugin: go mod download failed: ${(dl.stderr || dl.stdout).trim().split('\n').pop()}`, commands };
    r = run(['build', '-trimpath', '-o', binary, './cmd/opa-envoy-plugin'], { GOFLAGS: '-mod=readonly' }, dir);
    if (r.status !== 0) return { skipped: `opa-envoy-plugin build failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`, commands };
  }
  writeFileSync(marker, `${OPA_ENVOY_VERSION}\n`);
  return { binary, commands };
}
