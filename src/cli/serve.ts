/**
 * `meshwarden serve`: flags override the config file; the process serves until SIGTERM.
 */
import { resolve } from 'node:path';
import type { RawConfig } from '../config/build.js';
import { loadConfig } from '../config/load.js';
import { runUntilSignalled } from '../server/lifecycle.js';
import { createLogger } from '../server/logger.js';
import { startRuntime } from '../server/runtime.js';
import { parseCommandLine } from './usage.js';

const OPTIONS = {
  config: { type: 'string' },
  policy: { type: 'string', multiple: true },
  'shadow-policy': { type: 'string', multiple: true },
  grpc: { type: 'string' },
  admin: { type: 'string' },
  workers: { type: 'string' },
} as const;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  const config = await loadConfig(values.config, flagOverrides(values));
  const logger = createLogger();
  const runtime = await startRuntime(config, logger);
  logger.info({ grpc: runtime.grpcAddress, admin: runtime.adminAddress ?? 'off' }, 'listening');
  return runUntilSignalled(runtime, logger);
}

/** Paths given on the command line are relative to the working directory, not the config file. */
function flagOverrides(values: {
  policy?: string[];
  'shadow-policy'?: string[];
  grpc?: string;
  admin?: string;
  workers?: string;
}): RawConfig {
  const overrides: RawConfig = {};
  if (values.policy) overrides.policies = values.policy.map((p) => resolve(p));
  if (values['shadow-policy']) overrides.shadowPolicies = values['shadow-policy'].map((p) => resolve(p));
  if (values.grpc) overrides.grpc = { address: values.grpc };
  if (values.admin) overrides.admin = { address: values.admin };
  if (values.workers) overrides.workers = values.workers === 'auto' ? 'auto' : Number(values.workers);
  return overrides;
}
