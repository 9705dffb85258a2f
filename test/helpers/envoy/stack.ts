/**
 * One through-Envoy world: our echo upstream, a real meshwarden process on the chosen gRPC
 * transport, and a real Envoy in front of both. Tests talk to Envoy's listeners only.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startServer, tempDir, type ServerProcess } from '../server-process.js';
import { envoyBin } from './describe-with-envoy.js';
import { EchoUpstream } from './echo-upstream.js';
import { startEnvoy, type EnvoyOptions, type EnvoyProcess } from './envoy-process.js';

/** The gRPC transports meshwarden serves Envoy with; every through-Envoy file runs once per entry. */
/** One list of transports for every transport-level suite, this one included. */
export { TRANSPORTS } from '../transports.js';
export type Transport = 'native' | 'grpc-js';

export interface Stack {
  readonly envoy: EnvoyProcess;
  readonly meshwarden: ServerProcess;
  readonly upstream: EchoUpstream;
  /** Envoy's bound port for `listener`. */
  port(listener: string): number;
  /** meshwarden's Prometheus exposition. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly transport: Transport;
  /** meshwarden's config (YAML); `grpc.transport` is set from `transport`, `decisionLog` defaults to every line on stdout. */
  readonly meshwardenConfig: string;
  /** Where relative paths in the config resolve from (default: a temp dir). */
  readonly configDir?: string;
  /** Extra `meshwarden serve` flags (a later `--grpc unix:/path` replaces the loopback port). */
  readonly meshwardenArgs?: readonly string[];
  /** Files written into `configDir` first (e.g. `{ 'policies.yaml': TEXT }`). */
  readonly files?: Readonly<Record<string, string>>;
  /** The Envoy bootstrap, built once meshwarden and the upstream are listening (`http`: meshwarden's HTTP ext_authz address, or "off"). */
  readonly envoy: (ports: { readonly grpc: string; readonly http: string; readonly upstream: number }) => Record<string, unknown>;
  /** Envoy's log level (default info); `debug` shows each stream to meshwarden. */
  readonly envoyLogLevel?: EnvoyOptions['logLevel'];
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const bin = envoyBin();
  if (bin === undefined) throw new Error('startStack needs Envoy: call it inside describeWithEnvoy');
  const upstream = await EchoUpstream.start();
  const config = (parse(options.meshwardenConfig) ?? {}) as Record<string, unknown>;
  config['grpc'] = { ...(config['grpc'] as Record<string, unknown> | undefined), transport: options.transport };
  // every decision on stdout, so a test can find the one behind an answer (ServerProcess.decisions)
  config['decisionLog'] ??= { output: 'stdout', allowSampleRate: 1 };
  const configDir = options.configDir ?? tempDir();
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(configDir, name), text);
  let meshwarden: ServerProcess | undefined;
  try {
    meshwarden = await startServer({ configText: stringify(config), configDir, ...(options.meshwardenArgs ? { args: options.meshwardenArgs } : {}) });
    const bootstrap = options.envoy({ grpc: meshwarden.grpc, http: meshwarden.http, upstream: upstream.port });
    const envoy = await startEnvoy({ bin, bootstrap, ...(options.envoyLogLevel ? { logLevel: options.envoyLogLevel } : {}) });
    const admin = meshwarden.admin;
    return {
      envoy, meshwarden, upstream,
      port: (listener) => envoy.port(listener),
      metrics: async () => (await fetch(`http://${admin}/metrics`, { signal: AbortSignal.timeout(2_000) })).text(),
      async stop() {
        await envoy.stop();
        await meshwarden?.stop();
        await upstream.close();
      },
    };
  } catch (error) {
    await meshwarden?.stop();
    await upstream.close();
    throw error;
  }
}
