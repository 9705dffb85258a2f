/**
 * `meshwarden test POLICY... --cases FILE`: unit tests for policy, run by the engine that
 * enforces. Exit 0 when every case passes, 1 when any fails (or an input is wrong), 2 on usage.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { caseCoverage, formatCaseCoverage, formatRunHuman, formatRunJson, formatJunit, engineOptions, loadPolicySet, runCases, readTestCases } from '../workflow/index.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE =
  'usage: meshwarden test POLICY... --cases CASES.yaml [--junit FILE] [--json] [--coverage [--threshold PCT]] [--default-action ALLOW|DENY] [--root-namespace NS]';

const OPTIONS = {
  cases: { type: 'string', multiple: true },
  junit: { type: 'string' },
  json: { type: 'boolean', default: false },
  coverage: { type: 'boolean', default: false },
  threshold: { type: 'string' },
  'default-action': { type: 'string' },
  'root-namespace': { type: 'string' },
} as const;

export async function testCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, true);
  if (positionals.length === 0 || values.cases === undefined) throw new CliUsageError(USAGE);
  const threshold = values.threshold === undefined ? undefined : usageChecked(() => percentOf(values.threshold!));
  const options = usageChecked(() => engineOptions(values['default-action'], values['root-namespace']));
  const set = await loadPolicySet(positionals, options);
  const cases = (await Promise.all(values.cases.map(readTestCases))).flat();
  const started = performance.now();
  const run = runCases(set.tree, cases);
  const seconds = (performance.now() - started) / 1000;
  if (values.junit !== undefined) {
    await writeFile(values.junit, formatJunit(run, values.cases.map((f) => basename(f)).join(', '), seconds));
  }
  process.stdout.write(values.json ? formatRunJson(run) : formatRunHuman(run));
  if (!values.coverage && threshold === undefined) return run.failed === 0 ? 0 : 1;
  // Which rules the cases exercised; below the threshold fails like a failing case.
  const coverage = caseCoverage(set, cases);
  (values.json ? process.stderr : process.stdout).write(formatCaseCoverage(coverage, threshold));
  return run.failed === 0 && (threshold === undefined || coverage.percent >= threshold) ? 0 : 1;
}

function percentOf(text: string): number {
  const value = Number(text.replace(/%$/, ''));
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) throw new TypeError(`--threshold must be a percentage from 0 to 100, not "${text}"`);
  return value;
}

export function usageChecked<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof TypeError) throw new CliUsageError(error.message);
    throw error;
  }
}
