/**
 * `meshwarden serve`: flags override the config file; the process serves until SIGTERM.
 */
import { resolve } from 'node:path';
import { loadConfig, type RawConfig, type ServerConfig } from '../config/index.js';
import { startClusterPrimary, runUntilSignalled, createLogger, startRuntime, type Serving, type Logger } from '../server/index.js';
import { buildInfo } from '../telemetry/index.js';
import { createUiAnalysis } from './admin-ui-analysis.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const OPTIONS = {
  config: { type: 'string' },
  policy: { type: 'string', multiple: true },
  'shadow-policy': { type: 'string', multiple: true },
  grpc: { type: 'string' },
  http: { type: 'string' },
  admin: { type: 'string' },
  workers: { type: 'string' },
} as const;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  const config = await loadConfig(values.config, flagOverrides(values));
  const logger = createLogger();
  const { serving, listening } = config.workers > 1 ? await startCluster(config, logger) : await startSingle(config, logger);
  // Signal handlers first: whoever reads "listening" may send SIGTERM at once, and a signal
  // that meets no handler kills the process without draining.
  const stopped = runUntilSignalled(serving, logger);
  logger.info({ ...listening, version: buildInfo().version }, 'listening');
  return stopped;
}

interface Started {
  readonly serving: Serving;
  /** The fields of the "listening" line. */
  readonly listening: Record<string, unknown>;
}

async function startSingle(config: ServerConfig, logger: Logger): Promise<Started> {
  const runtime = await startRuntime(config, logger, { analysis: createUiAnalysis() });
  return { serving: runtime, listening: { grpc: runtime.grpcAddress, transport: config.grpc.transport, http: runtime.httpAddress ?? 'off', admin: runtime.adminAddress ?? 'off' } };
}

/** Logged once every worker serves; each worker logs its own "worker listening" with its pid. */
async function startCluster(config: ServerConfig, logger: Logger): Promise<Started> {
  const primary = await startClusterPrimary(config, logger, createUiAnalysis());
  const listening = { grpc: primary.grpcAddress, transport: config.grpc.transport, http: primary.httpAddress, admin: primary.adminAddress ?? 'off' };
  return { serving: primary, listening: { ...listening, workers: primary.workerPids() } };
}

/** Paths given on the command line are relative to the working directory, not the config file. */
function flagOverrides(values: {
  policy?: string[];
  'shadow-policy'?: string[];
  grpc?: string;
  http?: string;
  admin?: string;
  workers?: string;
}): RawConfig {
  const overrides: RawConfig = {};
  if (values.policy) overrides.policies = values.policy.map((p) => resolve(p));
  if (values['shadow-policy']) overrides.shadowPolicies = values['shadow-policy'].map((p) => resolve(p));
  if (values.grpc) overrides.grpc = { address: values.grpc };
  if (values.http) overrides.http = { address: values.http };
  if (values.admin) overrides.admin = { address: values.admin };
  if (values.workers) overrides.workers = workerCount(values.workers);
  return overrides;
}

/** The range itself is the config's to check; a word that is no count at all is a usage error. */
function workerCount(text: string): number | 'auto' {
  if (text === 'auto') return 'auto';
  if (/^[0-9]+$/.test(text)) return Number(text);
  throw new CliUsageError(`--workers takes a whole number of processes (1 to 256) or auto, not ${JSON.stringify(text)}: e.g. --workers 4`);
}
