/**
 * `learn --from` a file that holds no decision line learns nothing, and no policy is worth
 * writing from it: say what the file held and what learn reads, and exit non-zero.
 */
import type { DecisionLog } from '../workflow/index.js';

export function requireDecisions(log: DecisionLog): void {
  if (log.records.length > 0) return;
  const { notJson, notDecision } = log.skipped;
  const held = log.lines === 0 ? 'it is empty' : `of its ${log.lines} lines, ${notJson} are not JSON and ${notDecision} are JSON without a decision's fields`;
  throw new Error(
    `${log.file}: no decision lines (${held}). learn reads the decision log meshwarden serve writes: JSON lines on stdout ` +
      'by default (decisionLog.output), e.g. meshwarden serve --config config.yaml > decisions.jsonl',
  );
}
