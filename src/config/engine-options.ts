/** The settings the policy engine compiles with, as the server configuration gives them: one place, for the server and the primary of a cluster. */
import type { EngineOptions } from '../policy/index.js';
import type { ServerConfig } from './types.js';

export function engineOptionsOf(config: ServerConfig): EngineOptions {
  const aliases = config.identity?.trustDomainAliases;
  return {
    defaultAction: config.defaultAction,
    rootNamespace: config.rootNamespace,
    maxBodyBytes: config.maxBodyBytes,
    // identity.trustDomainAliases: identity validates them at start; the engine widens principals with them
    ...(aliases === undefined ? {} : { trustDomainAliases: aliases }),
  };
}
