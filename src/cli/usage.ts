/**
 * Command-line parsing shared by the sub-commands (node:util parseArgs, strict). Every
 * sub-command parses first thing, so `-h`/`--help` is answered here for all of them, from the
 * very options the command parses with: help and completion cannot drift from the parser.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from '../lib/index.js';

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** Wrong flags or arguments: reported with exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** `-h` or `--help` was given: main prints the command's help from these options. */
export class CliHelpRequested extends Error {
  override readonly name = 'CliHelpRequested';
  constructor(
    readonly options: CommandOptions,
    readonly allowPositionals: boolean,
  ) {
    super('help requested');
  }
}

export function parseCommandLine<T extends CommandOptions>(argv: string[], options: T, allowPositionals = false) {
  if (asksForHelp(argv)) throw new CliHelpRequested(options, allowPositionals);
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new CliUsageError(describeParseError(error, options));
  }
}

/** `-h` or `--help` before a `--` (after it, words are positionals). */
function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((word) => word === '-h' || word === '--help');
}

/** parseArgs' messages, said as what to do (and without their unbalanced quotes). */
function describeParseError(error: unknown, options: CommandOptions): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return unknownOption(quoted(message) ?? message, options);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return `unexpected argument ${JSON.stringify(quoted(message) ?? '')}: this command takes options only`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return invalidValue(message, options);
  return message;
}

/** What a user may mean by a flag we do not have, when no name is close to it. */
const MEANT_BY: Readonly<Record<string, readonly string[]>> = {
  port: ['grpc', 'admin', 'server'],
  listen: ['grpc', 'admin'],
  address: ['grpc', 'admin', 'server'],
  addr: ['grpc', 'admin', 'server'],
  host: ['grpc', 'admin', 'server'],
};

function unknownOption(flag: string, options: CommandOptions): string {
  const names = Object.keys(options);
  const bare = flag.replace(/^-+/, '').split('=')[0] ?? '';
  const close = closestName(bare, names);
  const meant = close === undefined ? (MEANT_BY[bare] ?? []).filter((name) => Object.hasOwn(options, name)) : [close];
  const suggestion = meant.length === 0 ? '' : `; did you mean ${meant.map((name) => withValue(name, options)).join(' or ')}?`;
  const listed = names.map((name) => `--${name}`).join(', ');
  return `unknown option ${flag}${suggestion} (this command takes ${listed || 'no options'})`;
}

/** `Option '--request <value>' argument missing`, `Option '--json' does not take an argument`. */
function invalidValue(message: string, options: CommandOptions): string {
  const name = /'--?([\w-]+)/.exec(message)?.[1];
  if (name === undefined || !Object.hasOwn(options, name)) return message;
  return options[name]!.type === 'string'
    ? `--${name} needs a value: ${withValue(name, options)}`
    : `--${name} takes no value: write --${name} alone`;
}

function withValue(name: string, options: CommandOptions): string {
  return options[name]?.type === 'string' ? `--${name} ${optionValueName(name)}` : `--${name}`;
}

/** The value's placeholder in usage text: FILE, PATH, ADDR, N…; `command:option` where a command means its own. */
export function optionValueName(name: string, command?: string): string {
  return (command === undefined ? undefined : VALUE_NAMES[`${command}:${name}`]) ?? VALUE_NAMES[name] ?? 'VALUE';
}

const VALUE_NAMES: Readonly<Record<string, string>> = {
  config: 'FILE',
  policy: 'PATH',
  'shadow-policy': 'PATH',
  grpc: 'HOST:PORT',
  admin: 'HOST:PORT',
  http: 'HOST:PORT',
  server: 'HOST:PORT',
  workers: 'N|auto',
  request: 'FILE',
  cases: 'FILE',
  junit: 'FILE',
  from: 'FILE',
  out: 'FILE',
  requests: 'FILE',
  log: 'FILE',
  flows: 'URL|FILE',
  old: 'PATH',
  new: 'PATH',
  ca: 'FILE',
  cert: 'FILE',
  key: 'FILE',
  'min-count': 'N',
  'min-distinct': 'N',
  'path-template': 'TEMPLATE',
  'trust-domain': 'TD',
  'tcp-services': 'NAME,...',
  'root-namespace': 'NS',
  'default-action': 'ALLOW|DENY',
  mode: 'dry-run|enforce',
  format: 'dot|mermaid|svg',
  timeout: 'SECONDS',
  to: 'DEST',
  label: 'KEY=VALUE',
  'reach:from': 'SPIFFE_ID|anonymous',
  'reach:format': 'table|json|dot|mermaid|svg',
  'blast-radius': 'SPIFFE_ID',
  reach: 'SPIFFE_ID',
  depth: 'N',
  invariants: 'FILE',
  threshold: 'PCT',
};

function quoted(message: string): string | undefined {
  return /'([^']*)'/.exec(message)?.[1];
}
