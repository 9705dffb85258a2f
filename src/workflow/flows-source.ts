/**
 * Reads a flow-graph snapshot, the JSON the admin endpoint `/flows` serves, from a URL
 * (fetched once, with a timeout) or from a saved file, and checks its shape before use.
 */
import type { FlowGraphSnapshot } from '../telemetry/index.js';
import { readText } from './located-yaml.js';
import { WorkflowError, fileIssue } from './workflow-error.js';

export interface FetchOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export async function readFlowSnapshot(source: string, options: FetchOptions = {}): Promise<FlowGraphSnapshot> {
  const text = /^https?:\/\//i.test(source) ? await fetchText(source, options) : await readText(source);
  return parseFlowSnapshot(text, source);
}

async function fetchText(url: string, options: FetchOptions): Promise<string> {
  const fetchFn = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchFn(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  } catch (error) {
    throw new WorkflowError('fetch_failed', `${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new WorkflowError('fetch_failed', `${url}: HTTP ${response.status}`);
  return response.text();
}

export function parseFlowSnapshot(text: string, source: string): FlowGraphSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new WorkflowError('invalid_flows', [fileIssue(source, `not JSON: ${(error as Error).message}`)]);
  }
  const edges = (data as { edges?: unknown } | null)?.edges;
  if (!Array.isArray(edges)) throw new WorkflowError('invalid_flows', [fileIssue(source, 'not a flow graph: no "edges" list')]);
  edges.forEach((edge, index) => {
    if (!isSnapshotEdge(edge)) {
      throw new WorkflowError('invalid_flows', [{ ...fileIssue(source, 'an edge needs source, destination, decisions, methods and paths (and byVerdict, when present, allow and deny with methods and paths)'), field: `edges[${index}]` }]);
    }
  });
  return data as FlowGraphSnapshot;
}

function isSnapshotEdge(edge: unknown): boolean {
  if (typeof edge !== 'object' || edge === null) return false;
  const e = edge as Record<string, unknown>;
  const decisions = e['decisions'] as Record<string, unknown> | undefined;
  return (
    typeof e['source'] === 'string' &&
    typeof e['destination'] === 'string' &&
    typeof decisions === 'object' &&
    decisions !== null &&
    ['allow', 'deny', 'dryRunDeny'].every((k) => typeof decisions[k] === 'number') &&
    typeof e['methods'] === 'object' &&
    typeof e['paths'] === 'object' &&
    (e['byVerdict'] === undefined || isVerdictDetails(e['byVerdict']))
  );
}

function isVerdictDetails(value: unknown): boolean {
  const details = value as Record<string, Record<string, unknown> | undefined> | null;
  return (
    typeof details === 'object' &&
    details !== null &&
    ['allow', 'deny'].every((k) => typeof details[k]?.['methods'] === 'object' && typeof details[k]?.['paths'] === 'object')
  );
}
