/** The settings the policy engine compiles with, as the server configuration gives them: one place, for the server and the primary of a cluster. */
import { normalizeTrustDomainAliases } from '../identity/index.js';
import type { EngineOptions } from '../policy/index.js';
import type { ServerConfig } from './types.js';

/** Throws TypeError for trust-domain aliases identity/ would refuse: a cluster's primary compiles before any worker starts identity. */
export function engineOptionsOf(config: ServerConfig): EngineOptions {
  const aliases = config.identity?.trustDomainAliases;
  if (aliases !== undefined) normalizeTrustDomainAliases(aliases);
  return {
    defaultAction: config.defaultAction,
    rootNamespace: config.rootNamespace,
    maxBodyBytes: config.maxBodyBytes,
    // identity.trustDomainAliases: an identity setting that the engine widens principals with
    ...(aliases === undefined ? {} : { trustDomainAliases: aliases }),
  };
}
