/**
 * `meshwarden coverage --policy PATH... --log DECISIONS.jsonl`: least privilege over time.
 * Replays the logged requests against the policies: ALLOW rules no request matched
 * (candidates to remove), and ALLOW rules far broader than what used them, each with the
 * narrower rule `learn` would write from those requests. Exit 0 when computed, 1 on a broken
 * input, 2 on usage.
 */
import { engineOptions, formatLogCoverageHuman, formatLogCoverageJson, loadPolicySet, logCoverage, readDecisionLog } from '../workflow/index.js';
import { usageChecked } from './test.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE = 'usage: meshwarden coverage --policy PATH... --log DECISIONS.jsonl [--json] [--default-action ALLOW|DENY] [--root-namespace NS]';

const OPTIONS = {
  policy: { type: 'string', multiple: true },
  log: { type: 'string' },
  json: { type: 'boolean', default: false },
  'default-action': { type: 'string' },
  'root-namespace': { type: 'string' },
} as const;

export async function coverageCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  if (values.policy === undefined || values.log === undefined) throw new CliUsageError(USAGE);
  const options = usageChecked(() => engineOptions(values['default-action'], values['root-namespace']));
  const set = await loadPolicySet(values.policy, options);
  const log = await readDecisionLog(values.log);
  const coverage = logCoverage(set, log.records);
  process.stdout.write(values.json ? formatLogCoverageJson(coverage) : formatLogCoverageHuman(coverage, values.log));
  return 0;
}
