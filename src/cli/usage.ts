/** Command-line parsing shared by the sub-commands (node:util parseArgs, strict). */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Wrong flags or arguments: reported with exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
}
