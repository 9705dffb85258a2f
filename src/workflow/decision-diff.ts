/**
 * Replays recorded requests against an old and a new policy set and groups the requests
 * whose enforced decision changes by flow (`source → destination METHOD path-template`),
 * so a policy change is judged by the traffic it would actually meet.
 */
import type { Evaluation, Evaluator } from '../policy/index.js';
import { templatePath } from '../telemetry/index.js';
import type { DecisionRecord } from './decision-log-reader.js';
import { compareText } from './compare-text.js';
import { replayRequest } from './replay.js';

export type ChangeKind = 'newly_denied' | 'newly_allowed';

/** Who decided, in one line: `allow by payments-api rule 0`, `deny (default_deny)`. */
export type DecidedBy = string;

export interface FlowChange {
  readonly kind: ChangeKind;
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly template: string;
  readonly count: number;
  /** How the first replayed request of the flow was decided, before and after. */
  readonly old: DecidedBy;
  readonly new: DecidedBy;
}

export interface DecisionDiff {
  /** Decision records replayed (decided by policy when they were logged). */
  readonly replayed: number;
  /** Records not replayed: decided before policy (unauthenticated, invalid, errors). */
  readonly skipped: number;
  readonly unchanged: number;
  readonly changes: readonly FlowChange[];
}

const POLICY_REASONS = new Set(['policy_allow', 'policy_deny', 'default_allow', 'default_deny']);

export function diffDecisions(records: readonly DecisionRecord[], before: Evaluator, after: Evaluator): DecisionDiff {
  const changes = new Map<string, FlowChange>();
  let replayed = 0;
  let unchanged = 0;
  for (const record of records) {
    if (!POLICY_REASONS.has(record.reason)) continue;
    replayed++;
    const { subject, request } = replayRequest(record);
    const old = before.evaluate(subject, request);
    const now = after.evaluate(subject, request);
    if (old.effect === now.effect) {
      unchanged++;
      continue;
    }
    const change = flowChange(record, old, now);
    const key = [change.kind, change.source, change.destination, change.method, change.template].join('\u0000');
    const known = changes.get(key);
    changes.set(key, known === undefined ? change : { ...known, count: known.count + 1 });
  }
  return { replayed, skipped: records.length - replayed, unchanged, changes: [...changes.values()].sort(compareChanges) };
}

function flowChange(record: DecisionRecord, old: Evaluation, now: Evaluation): FlowChange {
  return {
    kind: now.effect === 'deny' ? 'newly_denied' : 'newly_allowed',
    source: record.sourcePrincipal ?? 'unknown',
    destination: record.destination,
    method: record.method,
    template: templatePath(record.path),
    count: 1,
    old: decidedBy(old),
    new: decidedBy(now),
  };
}

export function decidedBy(evaluation: Evaluation): DecidedBy {
  if (evaluation.by === undefined) return `${evaluation.effect} (${evaluation.reason})`;
  const rule = evaluation.by.rule === undefined ? '' : ` rule ${evaluation.by.rule}`;
  return `${evaluation.effect} by ${evaluation.by.policy}${rule}`;
}

function compareChanges(a: FlowChange, b: FlowChange): number {
  return (
    compareText(a.kind, b.kind) ||
    b.count - a.count ||
    compareText(a.source, b.source) ||
    compareText(a.destination, b.destination) ||
    compareText(a.template, b.template) ||
    compareText(a.method, b.method)
  );
}

export function formatDiffHuman(diff: DecisionDiff): string {
  const lines = [`replayed ${diff.replayed} decisions (${diff.skipped} skipped: not decided by policy); ${diff.unchanged} unchanged`];
  for (const kind of ['newly_denied', 'newly_allowed'] as const) {
    const own = diff.changes.filter((c) => c.kind === kind);
    const requests = own.reduce((n, c) => n + c.count, 0);
    lines.push(`${kind.replace('_', ' ')}: ${own.length} ${own.length === 1 ? 'flow' : 'flows'}, ${requests} ${requests === 1 ? 'request' : 'requests'}`);
    for (const c of own) lines.push(`  ${c.source} → ${c.destination} ${c.method} ${c.template}  ×${c.count}  (old: ${c.old}; new: ${c.new})`);
  }
  return `${lines.join('\n')}\n`;
}

export function formatDiffJson(diff: DecisionDiff): string {
  const of = (kind: ChangeKind) => diff.changes.filter((c) => c.kind === kind).map(({ kind: _kind, ...rest }) => rest);
  const body = { replayed: diff.replayed, skipped: diff.skipped, unchanged: diff.unchanged, newlyDenied: of('newly_denied'), newlyAllowed: of('newly_allowed') };
  return `${JSON.stringify(body, null, 2)}\n`;
}
