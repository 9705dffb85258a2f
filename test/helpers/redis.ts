/**
 * A real Redis (Debian's redis-server and redis-tools) for the through-Envoy TCP suite: started
 * on a free loopback port with nothing saved to disk, stopped by PID. As with Envoy, a developer
 * machine without it skips the suite with one printed line, and under CI (`CI` set) the run fails.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe } from 'vitest';
import { isCi } from './envoy/envoy-binary.js';

export const REDIS_INSTALL = 'apt-get install -y redis-server redis-tools';

/** Why Redis cannot be used here, or undefined when both binaries run. */
export function redisProblem(): string | undefined {
  for (const bin of ['redis-server', 'redis-cli']) {
    const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (run.error) return `${bin} --version: ${run.error.message}`;
    if (run.status !== 0) return `${bin} --version exited ${run.status ?? run.signal}`;
  }
  return undefined;
}

const problem = redisProblem();
if (problem !== undefined && isCi()) throw new Error(`CI is set and Redis is not usable (${problem}); install it with: ${REDIS_INSTALL}`);
if (problem !== undefined) console.warn(`skipped the Redis suite: ${problem}; install Redis with: ${REDIS_INSTALL}`);

/** `describe` for suites that need Redis: skipped without it (said once, above), never under CI. */
export const describeWithRedis = describe.skipIf(problem !== undefined);

export interface RedisCliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** redis-cli with these arguments, under a time limit; never throws for an exit status. */
export function redisCli(args: readonly string[], timeoutMs = 10_000): Promise<RedisCliResult> {
  return new Promise((resolve) => {
    execFile('redis-cli', args, { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

export class RedisServer {
  private constructor(
    readonly port: number,
    readonly child: ChildProcess,
    readonly exited: Promise<void>,
  ) {}

  /** A redis-server on a free 127.0.0.1 port, answering PING (bounded in tries and time). */
  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const server = new RedisServer(port, child, exited);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (child.exitCode !== null) break;
      if ((await server.cli(['PING'], 2_000)).stdout === 'PONG') return server;
      await sleep(50);
    }
    await server.stop();
    throw new Error(`redis-server did not answer PING on ${port}:\n${log.join('')}`);
  }

  /** redis-cli straight to this server, past Envoy. */
  cli(args: readonly string[], timeoutMs?: number): Promise<RedisCliResult> {
    return redisCli(['-h', '127.0.0.1', '-p', String(this.port), ...args], timeoutMs);
  }

  /** `calls` of one command in `INFO commandstats` (0 when never called). */
  async calls(command: string): Promise<number> {
    const line = (await this.cli(['INFO', 'commandstats'])).stdout.split('\n').find((l) => l.startsWith(`cmdstat_${command}:`));
    return line === undefined ? 0 : Number(/calls=(\d+)/.exec(line)?.[1] ?? 0);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A port the kernel just handed out on loopback, released for redis-server to take. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
