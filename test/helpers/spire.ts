/**
 * A real SPIRE server and agent for end-to-end tests: built by test/helpers/install-spire.sh
 * (`go install` at a pinned release) into node_modules/.cache/meshwarden-spire/bin, or found at
 * MESHWARDEN_SPIRE_BIN.
 * Loopback and unix sockets in a temp dir only; the agent attests with a join token and keeps
 * its keys on disk, so it can be restarted without a new token; one registration entry gives
 * this process (its uid, unix workload attestor) the ID spiffe://example.org/meshwarden.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SPIRE_TRUST_DOMAIN = 'example.org';
export const SPIRE_WORKLOAD_ID = `spiffe://${SPIRE_TRUST_DOMAIN}/meshwarden`;
const NODE_ID = `spiffe://${SPIRE_TRUST_DOMAIN}/host`;

export type SpireBinaries = { readonly found: true; readonly dir: string } | { readonly found: false; readonly problem: string };

export function findSpire(env: NodeJS.ProcessEnv = process.env): SpireBinaries {
  const dir = env['MESHWARDEN_SPIRE_BIN'] ?? resolve(__dirname, '../../node_modules/.cache/meshwarden-spire/bin');
  const missing = ['spire-server', 'spire-agent'].filter((bin) => !existsSync(join(dir, bin)));
  return missing.length === 0 ? { found: true, dir } : { found: false, problem: `${missing.join(' and ')} not in ${dir} (bash test/helpers/install-spire.sh builds them)` };
}

export class Spire {
  readonly dir = mkdtempSync(join(tmpdir(), 'meshwarden-spire-'));
  readonly agentSocket = join(this.dir, 'agent.sock');
  readonly #serverSocket = join(this.dir, 'server.sock');
  #server: ChildProcess | undefined;
  #agent: ChildProcess | undefined;

  constructor(private readonly bin: string) {}

  get target(): string {
    return `unix:${this.agentSocket}`;
  }

  async start(): Promise<void> {
    const port = await freePort();
    writeFileSync(join(this.dir, 'server.conf'), serverConfig(this.dir, this.#serverSocket, port));
    writeFileSync(join(this.dir, 'agent.conf'), agentConfig(this.dir, this.agentSocket, port));
    this.#server = this.#spawn('spire-server', ['run', '-config', join(this.dir, 'server.conf')], 'server.log');
    await this.#healthy('spire-server', this.#serverSocket);
    const token = this.#run('spire-server', ['token', 'generate', '-socketPath', this.#serverSocket, '-spiffeID', NODE_ID]).split(/\s+/)[1]!;
    await this.startAgent(['-joinToken', token]);
    this.#run('spire-server', ['entry', 'create', '-socketPath', this.#serverSocket, '-parentID', NODE_ID, '-spiffeID', SPIRE_WORKLOAD_ID, '-selector', `unix:uid:${process.getuid!()}`]);
  }

  async startAgent(args: string[] = []): Promise<void> {
    this.#agent = this.#spawn('spire-agent', ['run', '-config', join(this.dir, 'agent.conf'), ...args], 'agent.log');
    await this.#healthy('spire-agent', this.agentSocket);
  }

  async stopAgent(): Promise<void> {
    await stop(this.#agent);
    this.#agent = undefined;
  }

  /** A JWT-SVID for this process, as SPIRE's own CLI fetches it over the Workload API. */
  fetchJwtSvid(audience: string): string {
    const out = this.#run('spire-agent', ['api', 'fetch', 'jwt', '-audience', audience, '-socketPath', this.agentSocket, '-output', 'json']);
    const token = /"svid":\s*"([^"]+)"/.exec(out)?.[1];
    if (token === undefined) throw new Error(`no JWT-SVID in: ${out.slice(0, 300)}`);
    return token;
  }

  /** This process's X.509-SVID chain (PEM), written by SPIRE's own CLI. */
  fetchX509SvidPem(): string {
    const out = join(this.dir, 'svid');
    mkdirSync(out, { recursive: true });
    this.#run('spire-agent', ['api', 'fetch', 'x509', '-socketPath', this.agentSocket, '-write', out]);
    return readFileSync(join(out, 'svid.0.pem'), 'utf8');
  }

  async close(): Promise<void> {
    await stop(this.#agent);
    await stop(this.#server);
  }

  #spawn(bin: string, args: string[], log: string): ChildProcess {
    const child = spawn(join(this.bin, bin), args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    child.on('exit', () => writeFileSync(join(this.dir, log), lines.join('')));
    return child;
  }

  #run(bin: string, args: string[]): string {
    const run = spawnSync(join(this.bin, bin), args, { cwd: this.dir, encoding: 'utf8', timeout: 30_000 });
    if (run.status !== 0) throw new Error(`${bin} ${args.slice(0, 3).join(' ')} exited ${run.status}: ${(run.stderr || run.stdout).slice(0, 500)}`);
    return run.stdout;
  }

  async #healthy(bin: string, socket: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (spawnSync(join(this.bin, bin), ['healthcheck', '-socketPath', socket], { timeout: 5000 }).status !== 0) {
      if (Date.now() > deadline) throw new Error(`${bin} did not turn healthy in 30 s (logs in ${this.dir})`);
      await new Promise((done) => setTimeout(done, 200));
    }
  }
}

function serverConfig(dir: string, socket: string, port: number): string {
  return `server {
  bind_address = "127.0.0.1"
  bind_port = "${port}"
  socket_path = "${socket}"
  trust_domain = "${SPIRE_TRUST_DOMAIN}"
  data_dir = "${dir}/server-data"
  log_level = "INFO"
}
plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "${dir}/server-data/datastore.sqlite3"
    }
  }
  KeyManager "memory" {
    plugin_data {}
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
}
`;
}

function agentConfig(dir: string, socket: string, port: number): string {
  return `agent {
  data_dir = "${dir}/agent-data"
  log_level = "INFO"
  server_address = "127.0.0.1"
  server_port = "${port}"
  socket_path = "${socket}"
  trust_domain = "${SPIRE_TRUST_DOMAIN}"
  insecure_bootstrap = true
}
plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "disk" {
    plugin_data {
      directory = "${dir}/agent-data"
    }
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
