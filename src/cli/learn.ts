/**
 * `meshwarden learn --from DECISIONS.jsonl`: least-privilege ALLOW policies from observed
 * flows, written in dry-run mode unless asked otherwise, for review and simulation.
 */
import { writeFile } from 'node:fs/promises';
import { readDecisionLog, applyMinCount, learnPolicies, renderLearnedPolicies, collectFlows } from '../workflow/index.js';
import { pathProblem } from '../policy/index.js';
import { requireDecisions } from './learn-input.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE =
  'usage: meshwarden learn --from DECISIONS.jsonl [--min-count N] [--min-distinct N] [--path-template TEMPLATE]... [--out FILE] [--mode dry-run|enforce] [--trust-domain TD] [--include-default-denied]';

/** Distinct values at one position under one parent that make it `{*}` unless told otherwise. */
const DEFAULT_MIN_DISTINCT = '10';

const OPTIONS = {
  from: { type: 'string' },
  'min-count': { type: 'string', default: '1' },
  'min-distinct': { type: 'string', default: DEFAULT_MIN_DISTINCT },
  'path-template': { type: 'string', multiple: true },
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
  const minDistinct = Number(values['min-distinct']);
  if (!Number.isInteger(minDistinct) || minDistinct < 0 || values['min-distinct'].trim() === '') {
    throw new CliUsageError(`--min-distinct must be a whole number (0 turns it off), not "${values['min-distinct']}"`);
  }
  const pathTemplates = (values['path-template'] ?? []).map(checkedTemplate);
  const mode = values.mode;
  if (mode !== 'dry-run' && mode !== 'enforce') throw new CliUsageError(`--mode must be dry-run or enforce, not "${mode}"`);
  const trustDomain = values['trust-domain']?.toLowerCase();
  const includeDefaultDenied = values['include-default-denied'];
  const log = await readDecisionLog(values.from);
  requireDecisions(log);
  const generalize = { minDistinct, templates: pathTemplates };
  const collection = collectFlows(log.records, { includeDefaultDenied, generalize, ...(trustDomain === undefined ? {} : { trustDomain }) });
  const minCountResult = applyMinCount(collection.flows, minCount);
  const policies = learnPolicies(minCountResult.kept, mode);
  const yaml = renderLearnedPolicies(policies, {
    log,
    collection,
    minCount,
    minCountResult,
    minDistinct,
    pathTemplates,
    includeDefaultDenied,
    ...(trustDomain === undefined ? {} : { trustDomain }),
  });
  if (values.out === undefined) process.stdout.write(yaml);
  else await writeFile(values.out, yaml);
  process.stderr.write(`learned ${policies.length} ${policies.length === 1 ? 'policy' : 'policies'} from ${collection.requests} requests\n`);
  return 0;
}

/** A template is a policy path with at least one `{*}` or a final `{**}`: `/v1/users/{*}`. */
function checkedTemplate(template: string): string {
  const problem = pathProblem(template);
  if (problem !== undefined) throw new CliUsageError(`--path-template ${template}: ${problem.message}`);
  if (!template.split('/').some((s) => s === '{*}' || s === '{**}')) {
    throw new CliUsageError(`--path-template ${template}: name the segments to generalize with {*} (one segment) or a final {**}, e.g. /v1/users/{*}`);
  }
  return template;
}
