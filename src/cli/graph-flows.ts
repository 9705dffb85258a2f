/**
 * `graph --flows URL` against a server that is not there: say which address failed and how
 * (connection refused, timed out), and what to check, rather than fetch's bare "fetch failed".
 */
import type { FlowGraphSnapshot } from '../telemetry/index.js';
import { readFlowSnapshot, WorkflowError } from '../workflow/index.js';

export async function readFlows(source: string): Promise<FlowGraphSnapshot> {
  try {
    return await readFlowSnapshot(source, { fetch: fetchSayingWhy });
  } catch (error) {
    if (!(error instanceof WorkflowError) || error.code !== 'fetch_failed') throw error;
    throw new WorkflowError(
      'fetch_failed',
      `${error.message}\nIs meshwarden serve running with its admin server at that address? Its "listening" log line names the admin address ` +
        '(127.0.0.1:9901 unless configured; admin: off serves no /flows). Or save /flows to a file and pass the file.',
    );
  }
}

/** fetch, whose network errors carry their cause's words (connect ECONNREFUSED 127.0.0.1:9901). */
const fetchSayingWhy: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw cause instanceof Error ? new Error(cause.message) : error;
  }
};
