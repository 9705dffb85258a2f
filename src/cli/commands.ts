/**
 * The sub-commands of `meshwarden`: what each is for, how it is called, where it lives.
 * Their options are not listed here: each command's own parse names them (see usage.ts).
 */
export type Command = (argv: string[]) => Promise<number>;

export interface CommandEntry {
  readonly summary: string;
  /** The required shape of a call; `[options]` stands for the rest, which `--help` lists. */
  readonly synopsis: string;
  /** What the exit codes mean, when they say more than success or failure. */
  readonly exits?: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: {
    summary: "serve Envoy's Authorization/Check over gRPC",
    synopsis: 'meshwarden serve [options]',
    exits: '0 after SIGTERM or SIGINT drained; 1 when it cannot start; 2 on wrong options',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  call: {
    summary: 'send one Check to a running server and print its answer',
    synopsis: 'meshwarden call --server HOST:PORT --request FILE [options]',
    exits: '0 allowed; 1 denied (403, 401 or 400: the status says which); 2 on wrong options or an unreadable request file; 3 no answer (unreachable, TLS refused, deadline)',
    load: async () => (await import('./call.js')).callCommand,
  },
  check: {
    summary: 'validate policy files',
    synopsis: 'meshwarden check [options] PATH...',
    exits: '0 when every file is valid; 1 on any error; 2 on wrong options',
    load: async () => (await import('./check.js')).checkCommand,
  },
  explain: {
    summary: 'evaluate one request and show why',
    synopsis: 'meshwarden explain --policy PATH... --request FILE [options]',
    load: async () => (await import('./explain.js')).explainCommand,
  },
  test: {
    summary: 'run policy test cases (expected decisions) with the enforcing engine',
    synopsis: 'meshwarden test POLICY... --cases CASES.yaml [options]',
    exits: '0 when every case passes; 1 when any fails or an input is wrong; 2 on wrong options',
    load: async () => (await import('./test.js')).testCommand,
  },
  learn: {
    summary: 'write least-privilege ALLOW policies from a decision log',
    synopsis: 'meshwarden learn --from DECISIONS.jsonl [options]',
    load: async () => (await import('./learn.js')).learnCommand,
  },
  diff: {
    summary: 'replay recorded requests against two policy sets; list changed flows',
    synopsis: 'meshwarden diff OLD NEW --requests DECISIONS.jsonl [options]',
    exits: '0; 1 with --fail-on-new-deny when a recorded flow would be newly denied; 2 on wrong options',
    load: async () => (await import('./diff.js')).diffCommand,
  },
  graph: {
    summary: 'draw flows (admin /flows, a decision log, or what policies allow)',
    synopsis: 'meshwarden graph (--flows URL|FILE | --log DECISIONS.jsonl | --policy PATH...) [options]',
    load: async () => (await import('./graph.js')).graphCommand,
  },
  reach: {
    summary: 'who can get what allowed, from the policies: callers of a destination, destinations of a caller, blast radius',
    synopsis: 'meshwarden reach POLICY... (--to DEST | --from CALLER | --blast-radius SPIFFE_ID) [options]',
    exits: '0 when computed; 1 when an input is wrong; 2 on wrong options',
    load: async () => (await import('./reach.js')).reachCommand,
  },
  verify: {
    summary: 'prove segment invariants (isolation, who may call what) over every request, or show a counterexample',
    synopsis: 'meshwarden verify POLICY... --invariants SEGMENTS.yaml [options]',
    exits: '0 when every invariant is proven; 1 when any is refuted or undecided, or an input is wrong; 2 on wrong options',
    load: async () => (await import('./verify.js')).verifyCommand,
  },
  coverage: {
    summary: 'rules no logged request needs, and rules far broader than their use (with the narrower rule)',
    synopsis: 'meshwarden coverage --policy PATH... --log DECISIONS.jsonl [options]',
    load: async () => (await import('./coverage.js')).coverageCommand,
  },
  completion: {
    summary: 'print a shell completion script (bash or zsh)',
    synopsis: 'meshwarden completion bash|zsh',
    load: async () => (await import('./completion.js')).completionCommand,
  },
};

export function commandNamed(name: string): CommandEntry | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}
