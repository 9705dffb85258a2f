/**
 * `meshwarden explain --policy PATH... --request FILE`: evaluates one request with the same
 * engine that enforces, and shows why: each policy considered, which rule matched or the
 * first clause that did not. Exit 0 when the request was evaluated (allowed or denied).
 */
import { explain, formatExplain, formatPolicyError, loadPolicies } from '../policy/index.js';
import { readRequestFile } from '../workflow/index.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const OPTIONS = {
  policy: { type: 'string', multiple: true },
  request: { type: 'string' },
  json: { type: 'boolean', default: false },
  'default-action': { type: 'string', default: 'DENY' },
  'root-namespace': { type: 'string', default: 'istio-system' },
} as const;

export async function explainCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  const defaultAction = values['default-action'];
  if (!values.policy?.length || values.request === undefined) {
    throw new CliUsageError('usage: meshwarden explain --policy PATH... --request FILE [--json]');
  }
  if (defaultAction !== 'ALLOW' && defaultAction !== 'DENY') throw new CliUsageError('--default-action is ALLOW or DENY');
  const engine = { defaultAction, rootNamespace: values['root-namespace'] } as const;
  const loaded = await loadPolicies(values.policy, engine);
  if (loaded.errors.length > 0) {
    process.stderr.write(`${loaded.errors.map(formatPolicyError).join('\n')}\n`);
    return 1;
  }
  const { request, subject } = await readRequestFile(values.request);
  const trace = explain(loaded.policies, engine, subject, request);
  process.stdout.write(values.json ? `${JSON.stringify(trace, null, 2)}\n` : `${formatExplain(trace)}\n`);
  return 0;
}
