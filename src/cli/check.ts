/**
 * `meshwarden check PATH...`: validates policy files; exit 0 when valid, 1 otherwise.
 * `--tcp-services redis,postgres`: destinations reached over TCP, for the warnings on
 * HTTP-only fields in the policies that reach them (a port-number service is TCP unlisted).
 * A Kubernetes `List` (a `kubectl get … -o yaml` export) is read item by item, and objects
 * that are not authorization policies are skipped with a warning each; `--strict` makes them errors.
 */
import { checkPolicies, formatCheckResult } from '../policy/index.js';
import { CliUsageError, parseCommandLine } from './usage.js';

export async function checkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      json: { type: 'boolean', default: false },
      'root-namespace': { type: 'string', default: 'istio-system' },
      'tcp-services': { type: 'string', default: '' },
      strict: { type: 'boolean', default: false },
    },
    true,
  );
  if (positionals.length === 0) throw new CliUsageError('usage: meshwarden check [--json] [--strict] [--tcp-services NAME,...] [--root-namespace NS] PATH...');
  const tcpServices = values['tcp-services'].split(',').map((name) => name.trim()).filter((name) => name !== '');
  const result = await checkPolicies(positionals, { rootNamespace: values['root-namespace'], tcpServices, strict: values.strict });
  const output = formatCheckResult(result, values.json ? 'json' : 'human');
  (result.ok ? process.stdout : process.stderr).write(output);
  return result.ok ? 0 : 1;
}
