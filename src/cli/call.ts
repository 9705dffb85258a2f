/**
 * `meshwarden call --server ADDR --request FILE`: sends one Check to a running server, as
 * Envoy would, built from the request files `explain` reads, and prints what Envoy would do
 * with the answer. Exit 0 allowed, 1 denied, 2 wrong options or request file, 3 no answer.
 */
import { readRequestFile } from '../workflow/index.js';
import { formatCallResult, readAnswer } from './call-answer.js';
import { NoAnswerError, sendCheck } from './call-client.js';
import { checkRequestOf } from './call-request.js';
import { CliUsageError, parseCommandLine } from './usage.js';

const OPTIONS = {
  server: { type: 'string' },
  request: { type: 'string' },
  json: { type: 'boolean', default: false },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  timeout: { type: 'string', default: '5' },
} as const;

export const CALL_EXIT = Object.freeze({ allowed: 0, denied: 1, usage: 2, noAnswer: 3 });

export async function callCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv, OPTIONS);
  if (values.server === undefined || values.request === undefined) {
    throw new CliUsageError('usage: meshwarden call --server HOST:PORT --request FILE [--json] [--ca FILE [--cert FILE --key FILE]] [--timeout SECONDS]');
  }
  const timeoutMs = seconds(values.timeout) * 1000;
  const { request } = await readRequest(values.request);
  try {
    const answer = await sendCheck(values.server, checkRequestOf(request), values, timeoutMs);
    const result = readAnswer(answer);
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatCallResult(result));
    return result.grpcStatus === 0 ? CALL_EXIT.allowed : CALL_EXIT.denied;
  } catch (error) {
    if (!(error instanceof NoAnswerError)) throw error;
    process.stderr.write(`meshwarden call: ${error.message}\n`);
    return CALL_EXIT.noAnswer;
  }
}

/** A request file that cannot be read or is not a request is the caller's to fix: exit 2, not 1 (denied). */
async function readRequest(file: string): ReturnType<typeof readRequestFile> {
  try {
    return await readRequestFile(file);
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
}

function seconds(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 3600) throw new CliUsageError(`--timeout is a number of seconds from 0 to 3600, not ${JSON.stringify(text)}`);
  return value;
}
