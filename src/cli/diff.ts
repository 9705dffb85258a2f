/**
 * `meshwarden diff OLD NEW --requests DECISIONS.jsonl`: what a policy change would do to
 * recorded traffic. Exit 1 with --fail-on-new-deny when any recorded flow would be newly
 * denied (a CI gate for policy pull requests).
 */
import { readDecisionLog, diffDecisions, formatDiffHuman, formatDiffJson, engineOptions, loadPolicySet } from '../workflow/index.js';
import { usageChecked } from './test.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE =
  'usage: meshwarden diff OLD NEW --requests DECISIONS.jsonl [--fail-on-new-deny] [--json] [--default-action ALLOW|DENY] [--root-namespace NS]\n' +
  '       meshwarden diff --old PATH... --new PATH... --requests DECISIONS.jsonl [...]';

const OPTIONS = {
  old: { type: 'string', multiple: true },
  new: { type: 'string', multiple: true },
  requests: { type: 'string' },
  'fail-on-new-deny': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'default-action': { type: 'string' },
  'root-namespace': { type: 'string' },
} as const;

export async function diffCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, true);
  const [oldPaths, newPaths] = policyPaths(positionals, values.old, values.new);
  if (values.requests === undefined) throw new CliUsageError(USAGE);
  const options = usageChecked(() => engineOptions(values['default-action'], values['root-namespace']));
  const [before, after, log] = await Promise.all([loadPolicySet(oldPaths, options), loadPolicySet(newPaths, options), readDecisionLog(values.requests)]);
  const diff = diffDecisions(log.records, before.tree, after.tree);
  process.stdout.write(values.json ? formatDiffJson(diff) : formatDiffHuman(diff));
  const newlyDenied = diff.changes.some((c) => c.kind === 'newly_denied');
  return values['fail-on-new-deny'] && newlyDenied ? 1 : 0;
}

/** Either exactly two positionals (OLD NEW), or --old and --new (each repeatable); not both. */
function policyPaths(positionals: string[], old: string[] | undefined, next: string[] | undefined): [string[], string[]] {
  if (old === undefined && next === undefined && positionals.length === 2) return [[positionals[0]!], [positionals[1]!]];
  if (old !== undefined && next !== undefined && positionals.length === 0) return [old, next];
  throw new CliUsageError(USAGE);
}
