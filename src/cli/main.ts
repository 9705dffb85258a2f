#!/usr/bin/env node
/**
 * The `meshwarden` command: one sub-command per step of the workflow.
 * Each sub-command lives in its own module and returns an exit code.
 */
import { CliUsageError } from './usage.js';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  check: async () => (await import('./check.js')).checkCommand,
  explain: async () => (await import('./explain.js')).explainCommand,
  test: async () => (await import('./test.js')).testCommand,
  learn: async () => (await import('./learn.js')).learnCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  graph: async () => (await import('./graph.js')).graphCommand,
};

const HELP = `meshwarden — Envoy ext_authz for service-mesh microsegmentation

usage: meshwarden <command> [options]

commands:
  serve     serve Envoy's Authorization/Check over gRPC
  check     validate policy files
  explain   evaluate one request and show why
  test      run policy test cases (expected decisions) with the enforcing engine
  learn     write least-privilege ALLOW policies from a decision log
  diff      replay recorded requests against two policy sets; list changed flows
  graph     draw flows (admin /flows, a decision log, or what policies allow)
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    process.stderr.write(`meshwarden: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (error) {
    if (error instanceof CliUsageError) {
      process.stderr.write(`meshwarden ${name}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`meshwarden ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
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
