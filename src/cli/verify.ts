/**
 * `meshwarden verify POLICY... --invariants SEGMENTS.yaml [--junit FILE] [--json]`: proves each
 * segment invariant over every request (not over recorded traffic) with reach, or refutes it
 * with a counterexample request that `meshwarden explain` reproduces. Exit 0 when every
 * invariant is proven, 1 when any is refuted or undecided or an input is wrong, 2 on usage.
 * `--config` takes the server's defaultAction, rootNamespace and trust-domain aliases.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Reach } from '../policy/index.js';
import { formatVerifyHuman, formatVerifyJson, formatVerifyJunit, loadPolicySet, proveInvariants, readInvariants } from '../workflow/index.js';
import { ENGINE_FLAGS, engineSettings } from './engine-flags.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE = 'usage: meshwarden verify POLICY... --invariants SEGMENTS.yaml [--junit FILE] [--json] [--config FILE] [--default-action ALLOW|DENY] [--root-namespace NS]';

const OPTIONS = {
  invariants: { type: 'string', multiple: true },
  junit: { type: 'string' },
  json: { type: 'boolean', default: false },
  ...ENGINE_FLAGS,
} as const;

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, true);
  if (positionals.length === 0 || values.invariants === undefined) throw new CliUsageError(USAGE);
  const { options } = await engineSettings(values, argv);
  const set = await loadPolicySet(positionals, options);
  const invariants = (await Promise.all(values.invariants.map(readInvariants))).flat();
  const started = performance.now();
  const results = proveInvariants(new Reach(set), invariants);
  const seconds = (performance.now() - started) / 1000;
  if (values.junit !== undefined) {
    await writeFile(values.junit, formatVerifyJunit(results, values.invariants.map((f) => basename(f)).join(', '), seconds, positionals));
  }
  process.stdout.write(values.json ? formatVerifyJson(results) : formatVerifyHuman(results, positionals));
  return results.every((r) => r.verdict === 'proven') ? 0 : 1;
}
