/**
 * The engine options of the commands that judge policies offline (explain, reach, verify): the
 * flags `--default-action` and `--root-namespace`, and `--config`, the server's own file, for
 * those two and its trust-domain aliases. So an offline answer is the one the server would give.
 * A flag given overrides the config.
 */
import { loadConfig, type ServerConfig } from '../config/index.js';
import type { EngineOptions } from '../policy/index.js';
import { engineOptions } from '../workflow/index.js';
import { usageChecked } from './test.js';

export const ENGINE_FLAGS = {
  config: { type: 'string' },
  'default-action': { type: 'string' },
  'root-namespace': { type: 'string' },
} as const;

interface EngineFlagValues {
  readonly config?: string | undefined;
  readonly 'default-action'?: string | undefined;
  readonly 'root-namespace'?: string | undefined;
}

export interface EngineSettings {
  readonly options: EngineOptions;
  readonly config: ServerConfig | undefined;
}

export async function engineSettings(values: EngineFlagValues): Promise<EngineSettings> {
  const config = values.config === undefined ? undefined : await loadConfig(values.config);
  const aliases = config?.identity?.trustDomainAliases;
  const options = usageChecked(() => ({
    ...engineOptions(values['default-action'] ?? config?.defaultAction, values['root-namespace'] ?? config?.rootNamespace),
    ...(aliases === undefined ? {} : { trustDomainAliases: aliases }),
  }));
  return { options, config };
}
