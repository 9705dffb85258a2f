/**
 * `meshwarden learn --from DECISIONS.jsonl`: least-privilege ALLOW policies from observed
 * flows, written in dry-run mode unless asked otherwise, for review and simulation.
 */
import { writeFile } from 'node:fs/promises';
import { readDecisionLog, applyMinCount, learnPolicies, renderLearnedPolicies, collectFlows } from '../workflow/index.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE = 'usage: meshwarden learn --from DECISIONS.jsonl [--min-count N] [--out FILE] [--mode dry-run|enforce] [--trust-domain TD] [--include-default-denied]';

const OPTIONS = {
  from: { type: 'string' },
  'min-count': { type: 'string', default: '1' },
  out: { type: 'string' },
  mode: { type: 'string', default: 'dry-run' },
  'trust-domain': { type: 'string' },
  'include-default-denied': { type: 'boolean', default: false },
} as const;

export async function learnCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  if (values.from === undefined) throw new CliUsageError(USAGE);
  const minCount = Number(values['min-count']);
  if (!Number.isInteger(minCount) || minCount < 1) throw new CliUsageError(`--min-count must be a positive integer, not "${values['min-count']}"`);
  const mode = values.mode;
  if (mode !== 'dry-run' && mode !== 'enforce') throw new CliUsageError(`--mode must be dry-run or enforce, not "${mode}"`);
  const trustDomain = values['trust-domain']?.toLowerCase();
  const includeDefaultDenied = values['include-default-denied'];
  const log = await readDecisionLog(values.from);
  const collection = collectFlows(log.records, { includeDefaultDenied, ...(trustDomain === undefined ? {} : { trustDomain }) });
  const minCountResult = applyMinCount(collection.flows, minCount);
  const policies = learnPolicies(minCountResult.kept, mode);
  const yaml = renderLearnedPolicies(policies, {
    log,
    collection,
    minCount,
    minCountResult,
    includeDefaultDenied,
    ...(trustDomain === undefined ? {} : { trustDomain }),
  });
  if (values.out === undefined) process.stdout.write(yaml);
  else await writeFile(values.out, yaml);
  process.stderr.write(`learned ${policies.length} ${policies.length === 1 ? 'policy' : 'policies'} from ${collection.requests} requests\n`);
  return 0;
}
