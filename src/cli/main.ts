#!/usr/bin/env node
/**
 * The `meshwarden` command: one sub-command per step of the workflow (commands.ts).
 * Each sub-command lives in its own module and returns an exit code; help, version and
 * usage errors are answered here, the same way for all of them.
 */
import { COMMANDS, commandNamed, type CommandEntry } from './commands.js';
import { commandHelp, mainHelp } from './help.js';
import { CliHelpRequested, CliUsageError } from './usage.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(mainHelp());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') return help(rest[0]);
  if (name === '--version' || name === '-V' || name === 'version') return version();
  const entry = commandNamed(name);
  return entry === undefined ? unknownCommand(name) : run(name, entry, rest);
}

function unknownCommand(name: string): number {
  process.stderr.write(`meshwarden: unknown command "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')}\n\n${mainHelp()}`);
  return 2;
}

async function run(name: string, entry: CommandEntry, argv: string[]): Promise<number> {
  try {
    return await (await entry.load())(argv);
  } catch (error) {
    if (error instanceof CliHelpRequested) {
      process.stdout.write(commandHelp(name, entry, error.options));
      return 0;
    }
    if (error instanceof CliUsageError) {
      process.stderr.write(`meshwarden ${name}: ${error.message}\n(meshwarden ${name} --help lists what it takes)\n`);
      return 2;
    }
    process.stderr.write(`meshwarden ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** `meshwarden help CMD` is `meshwarden CMD --help`. */
async function help(name: string | undefined): Promise<number> {
  if (name === undefined) {
    process.stdout.write(mainHelp());
    return 0;
  }
  const entry = commandNamed(name);
  return entry === undefined ? unknownCommand(name) : run(name, entry, ['--help']);
}

async function version(): Promise<number> {
  const { buildInfo } = await import('../telemetry/index.js');
  const { version: ours, node } = buildInfo();
  process.stdout.write(`meshwarden ${ours} (node ${node})\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // exitCode, not exit(): pending output (decision log, stdout) is flushed first.
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`meshwarden: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
