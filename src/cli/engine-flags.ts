/**
 * The engine options of the commands that judge policies offline (explain, reach, verify): the
 * flags `--default-action` and `--root-namespace`, and `--config`, the server's own file, for
 * those two and its trust-domain aliases. So an offline answer is the one the server would give.
 * A flag given on the command line overrides the config; a flag's default (shown by --help) does not.
 */
import { loadConfig, type ServerConfig } from '../config/index.js';
import type { EngineOptions } from '../policy/index.js';
import { DEFAULT_ENGINE_OPTIONS, engineOptions } from '../workflow/index.js';
import { usageChecked } from './test.js';

export const ENGINE_FLAGS = {
  config: { type: 'string' },
  'default-action': { type: 'string', default: DEFAULT_ENGINE_OPTIONS.defaultAction },
  'root-namespace': { type: 'string', default: DEFAULT_ENGINE_OPTIONS.rootNamespace },
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

export async function engineSettings(values: EngineFlagValues, argv: readonly string[]): Promise<EngineSettings> {
  const config = values.config === undefined ? undefined : await loadConfig(values.config);
  const aliases = config?.identity?.trustDomainAliases;
  const flag = (name: 'default-action' | 'root-namespace') => (config === undefined || given(argv, name) ? values[name] : undefined);
  const options = usageChecked(() => ({
    ...engineOptions(flag('default-action') ?? config?.defaultAction, flag('root-namespace') ?? config?.rootNamespace),
    ...(aliases === undefined ? {} : { trustDomainAliases: aliases }),
  }));
  return { options, config };
}

/** Whether the command line gives the option itself (parseArgs fills defaults in). */
function given(argv: readonly string[], name: string): boolean {
  return argv.some((word) => word === `--${name}` || word.startsWith(`--${name}=`));
}
