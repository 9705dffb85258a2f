/**
 * The hot-path tally of decisions: one typed-array slot per (verdict, reason), bumped with
 * two map lookups and no allocation, published to Prometheus at scrape time. prom-client's
 * `labels(...).inc()` would hash the label set on every call.
 */
import { REASON_CODES, type Decision, type ReasonCode, type Verdict } from '../domain/index.js';
import type { Sample } from './stats-source.js';

export const VERDICTS: readonly Verdict[] = Object.freeze(['allow', 'deny', 'unauthenticated', 'invalid_request']);
export type DryRunLabel = 'would_allow' | 'would_deny';

const VERDICT_INDEX = new Map<string, number>(VERDICTS.map((v, i) => [v, i]));
const REASON_INDEX = new Map<string, number>(REASON_CODES.map((r, i) => [r, i]));
// A value outside the closed sets (only possible if a caller bypasses the types) is counted
// as what it must be, a fail-closed internal error, so no label ever carries a foreign value.
const FALLBACK_VERDICT = VERDICT_INDEX.get('deny') ?? 0;
const FALLBACK_REASON = REASON_INDEX.get('internal_error') ?? 0;

/** The verdict as a label value: itself, or `deny` for a value outside the closed set. */
export function verdictLabel(verdict: Verdict): Verdict {
  return VERDICT_INDEX.has(verdict) ? verdict : 'deny';
}

export class CheckCounters {
  readonly #checks = new Float64Array(VERDICTS.length * REASON_CODES.length);
  readonly #dryRun = new Float64Array(2);

  record(decision: Decision): void {
    const verdict = VERDICT_INDEX.get(decision.verdict) ?? FALLBACK_VERDICT;
    const reason = REASON_INDEX.get(decision.reason) ?? FALLBACK_REASON;
    this.#checks[verdict * REASON_CODES.length + reason]! += 1;
    if (decision.dryRun !== undefined) this.#dryRun[decision.dryRun.verdict === 'allow' ? 0 : 1]! += 1;
  }

  /** Series seen so far; combinations never hit (most of them are impossible) stay absent. */
  *checks(): Iterable<Sample<'decision' | 'reason'>> {
    for (let i = 0; i < this.#checks.length; i++) {
      const count = this.#checks[i]!;
      if (count === 0) continue;
      const decision = VERDICTS[Math.floor(i / REASON_CODES.length)] as Verdict;
      const reason = REASON_CODES[i % REASON_CODES.length] as ReasonCode;
      yield [{ decision, reason }, count];
    }
  }

  *dryRun(): Iterable<Sample<'outcome'>> {
    yield [{ outcome: 'would_allow' }, this.#dryRun[0]!];
    yield [{ outcome: 'would_deny' }, this.#dryRun[1]!];
  }
}
