/**
 * The help text of `meshwarden` and of each sub-command. A command's options come from its
 * own parse (CliHelpRequested), their words from OPTION_HELP: a flag added to a command is
 * listed at once, and the help test asks for its description here.
 */
import { COMMANDS, type CommandEntry } from './commands.js';
import { optionValueName, type CommandOptions } from './usage.js';

/** What each option does; `command:option` when a command means something of its own by it. */
export const OPTION_HELP: Readonly<Record<string, string>> = {
  config: "the server's configuration file (YAML)",
  'serve:config': 'configuration file (YAML); the flags below override its keys',
  policy: 'a policy file or directory (YAML, read recursively)',
  'shadow-policy': 'a candidate policy file or directory, evaluated beside the enforced set and never enforced',
  grpc: 'where the gRPC listener listens: HOST:PORT or unix:/path (without it and the config: 0.0.0.0:9191)',
  http: "where the HTTP ext_authz listener (Envoy's http_service) listens: HOST:PORT, or off (the default)",
  admin: 'where the admin HTTP server (/metrics, /readyz, /policy, /flows) listens, or off (without it and the config: 127.0.0.1:9901)',
  workers: 'worker processes serving one gRPC address, 1 to 256, or auto (one per CPU)',
  json: 'print JSON instead of text',
  'root-namespace': "Istio's root namespace, whose policies apply to every destination",
  'default-action': 'the decision when no policy matches',
  request: 'the request: an AccessRequest (YAML or JSON) or an Envoy CheckRequest (JSON), as in examples/requests/',
  cases: 'a file of test cases: requests and the decisions expected',
  junit: 'also write the results as JUnit XML to this file',
  from: 'the decision log (JSON lines) to learn from',
  'min-count': 'learn a flow only when it was seen at least N times',
  'min-distinct': 'generalize a path segment to {*} when at least N distinct values share its position',
  'path-template': 'a path template to generalize observed paths to, e.g. /v1/users/{*}',
  out: 'write to this file instead of standard output',
  mode: 'the mode the learned policies are written in',
  'trust-domain': 'learn only from callers of this trust domain',
  'include-default-denied': 'also learn the flows that were denied by default',
  'tcp-services': 'the destinations reached over TCP (comma-separated), whose policies are checked for fields only HTTP has',
  strict: 'report objects that are not authorization policies as errors, not warnings',
  old: 'the policies in service',
  new: 'the candidate policies',
  requests: 'the decision log (JSON lines) whose requests are replayed',
  'fail-on-new-deny': 'exit 1 when any recorded flow would be newly denied',
  flows: "a running server's admin /flows URL, or a file saved from it",
  log: 'a decision log (JSON lines)',
  format: 'the output format',
  server: 'the gRPC address of a running meshwarden: HOST:PORT or unix:/path',
  ca: 'the CA certificate(s) (PEM) that signed the server certificate: turns TLS on',
  cert: 'the client certificate (PEM) to present to an mTLS listener, with --key',
  key: 'the private key (PEM) of --cert',
  timeout: 'how long to wait for the answer',
  'reach:to': 'the destination: SERVICE, NAMESPACE/SERVICE, NAMESPACE/* (any service of it), or its SPIFFE ID',
  label: 'a selector label the destination carries (for Istio workload selectors)',
  'reach:from': 'the caller: a SPIFFE ID, or anonymous (no identity)',
  'reach:format': 'a table, JSON, or a graph',
  'blast-radius': 'what this workload can get allowed, and what those can in turn',
  depth: 'how many hops a blast radius walks',
  'graph:reach': "draw this workload's blast radius, computed from --policy",
  invariants: 'the segment invariants to prove (YAML, as in examples/segments.yaml)',
  coverage: 'also report which enforced rules the cases exercised',
  threshold: 'exit 1 when the cases exercise a smaller share of the enforced rules (percent; implies --coverage)',
  'coverage:log': 'the decision log (JSON lines) whose requests are replayed against the policies',
};

const HELP_LINE = '  -h, --help';

export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 3;
  const commands = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}${entry.summary}`);
  return [
    'meshwarden — Envoy ext_authz for service-mesh microsegmentation',
    '',
    'usage: meshwarden <command> [options]',
    '       meshwarden <command> --help     what a command takes',
    '       meshwarden --version',
    '',
    'commands:',
    ...commands,
    '',
  ].join('\n');
}

/** One command's help: what it does, its shape, every option it parses, its exit codes. */
export function commandHelp(name: string, entry: CommandEntry, options: CommandOptions): string {
  const rows = Object.entries(options).map(([option, config]) => optionRow(name, option, config));
  rows.push([HELP_LINE, 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `meshwarden ${name} — ${entry.summary}`,
    '',
    `usage: ${entry.synopsis}`,
    '',
    'options:',
    ...rows.map(([left, right]) => `${left.padEnd(width)}${right}`),
    ...(entry.exits === undefined ? [] : ['', `exit codes: ${entry.exits}`]),
    '',
  ].join('\n');
}

/** The description of `option` as `command` means it; undefined when none is written. */
export function optionDescription(command: string, option: string): string | undefined {
  return OPTION_HELP[`${command}:${option}`] ?? OPTION_HELP[option];
}

function optionRow(command: string, option: string, config: CommandOptions[string]): [string, string] {
  const flag = config.type === 'string' ? `  --${option} ${optionValueName(option, command)}` : `  --${option}`;
  const notes = [
    config.multiple === true ? 'repeatable' : undefined,
    config.default === undefined || config.default === false || config.default === '' ? undefined : `default ${String(config.default)}`,
  ].filter((note) => note !== undefined);
  const text = optionDescription(command, option) ?? '(no description yet: add one to OPTION_HELP in src/cli/help.ts)';
  return [flag, notes.length === 0 ? text : `${text} (${notes.join('; ')})`];
}
