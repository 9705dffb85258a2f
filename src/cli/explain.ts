/**
 * `meshwarden explain --policy PATH... --request FILE`: evaluates one request with the engine
 * that enforces (the compiled decision tree) and shows why, from the reference trace: each policy
 * considered, which rule matched or the first clause that did not. The two engines must agree,
 * or explain fails. `--config` takes the server's defaultAction, rootNamespace, maxBodyBytes,
 * trust-domain aliases, identity settings (and policies, when no --policy is given). Exit 0 when the request was
 * evaluated (allowed, denied or unauthenticated), 1 on a broken input, 2 on wrong options.
 */
import { dirname, resolve } from 'node:path';
import type { ServerConfig } from '../config/index.js';
import { formatExplain } from '../policy/index.js';
import { explainRequest, loadPolicySet, readRequestFile, resolveCaller, type RequestInput, type ResolvedCaller } from '../workflow/index.js';
import { ENGINE_FLAGS, engineSettings } from './engine-flags.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const USAGE =
  'usage: meshwarden explain --policy PATH... --request FILE|- [--config FILE] [--default-action ALLOW|DENY] [--root-namespace NS] [--json]\n' +
  '       (FILE: an AccessRequest YAML/JSON, a CheckRequest JSON, or one decision-log line; - reads standard input)';

const OPTIONS = {
  policy: { type: 'string', multiple: true },
  request: { type: 'string' },
  json: { type: 'boolean', default: false },
  ...ENGINE_FLAGS,
} as const;

export async function explainCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  const settings = await engineSettings(values, argv);
  const { config } = settings;
  const policies = values.policy ?? (config?.policies.length ? [...config.policies] : undefined);
  if (policies === undefined || values.request === undefined) throw new CliUsageError(USAGE);
  const options = config === undefined ? settings.options : { ...settings.options, maxBodyBytes: config.maxBodyBytes };
  const set = await loadPolicySet(policies, options);
  const input = await readRequestFile(values.request);
  if (input.form === 'decision-line') {
    process.stderr.write('explain: replaying a decision-log line: claims and headers the log did not keep are absent\n');
  }
  const caller = await callerOf(input, config, values.config);
  if (!caller.ok) {
    const answer = { decision: 'unauthenticated', code: caller.code, message: caller.message };
    process.stdout.write(values.json ? `${JSON.stringify(answer, null, 2)}\n` : `identity: ${caller.code}: ${caller.message}\ndecision: unauthenticated (401 whatever the policies say)\n`);
    return 0;
  }
  const { trace } = explainRequest(set, caller.subject, input.request);
  const engine = 'the compiled decision tree (the engine that enforces) decided; the reference trace above agrees';
  process.stdout.write(values.json ? `${JSON.stringify({ ...trace, engine: 'decision-tree' }, null, 2)}\n` : `${formatExplain(trace)}\nengine: ${engine}\n`);
  return 0;
}


/**
 * With a config, the caller is who the server's identity stage would make of the request; a
 * decision-log line keeps the caller the server logged (the log holds no credentials to verify).
 */
async function callerOf(input: RequestInput, config: ServerConfig | undefined, file: string | undefined): Promise<ResolvedCaller> {
  if (config === undefined || file === undefined || input.form === 'decision-line') return { ok: true, subject: input.subject };
  return resolveCaller(config.identity, dirname(resolve(file)), input.request);
}
