/** `meshwarden check PATH...`: validates policy files; exit 0 when valid, 1 otherwise. */
import { checkPolicies, formatCheckResult } from '../policy/index.js';
import { CliUsageError, parseCommandLine } from './usage.js';

export async function checkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    { json: { type: 'boolean', default: false }, 'root-namespace': { type: 'string', default: 'istio-system' } },
    true,
  );
  if (positionals.length === 0) throw new CliUsageError('usage: meshwarden check [--json] PATH...');
  const result = await checkPolicies(positionals, { rootNamespace: values['root-namespace'] });
  const output = formatCheckResult(result, values.json ? 'json' : 'human');
  (result.ok ? process.stdout : process.stderr).write(output);
  return result.ok ? 0 : 1;
}
