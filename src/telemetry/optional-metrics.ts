/**
 * Opt-in counters whose labels are not from fixed sets: per-policy matches (operator ids) and
 * per-flow decisions (identities and services seen in traffic). Both are capped; what does not
 * fit is counted under `other`, so a flood of new names costs one series, not memory.
 */
import { Counter, type Registry } from 'prom-client';
import type { Decision } from '../domain/index.js';
import { OTHER, SeriesCap, clipLabel } from './capped-series.js';
import { verdictLabel } from './check-counters.js';

export type PolicyMatchAction = 'allow' | 'deny' | 'audit' | 'dry_run_allow' | 'dry_run_deny';

export class PolicyMatchCounter {
  readonly #counter: Counter<'policy' | 'action'>;
  readonly #cap: SeriesCap;

  constructor(registry: Registry, maxPolicies: number) {
    this.#cap = new SeriesCap(maxPolicies);
    this.#counter = new Counter({
      name: 'meshwarden_policy_matches_total',
      help: 'Decisions by the policy that matched and what it did.',
      labelNames: ['policy', 'action'],
      registers: [registry],
    });
  }

  record(decision: Decision): void {
    if (decision.by !== undefined) this.#inc(decision.by.policy, decision.verdict === 'allow' ? 'allow' : 'deny');
    if (decision.audit !== undefined) this.#inc(decision.audit.policy, 'audit');
    const dryRunBy = decision.dryRun?.by;
    if (dryRunBy !== undefined) this.#inc(dryRunBy.policy, decision.dryRun?.verdict === 'allow' ? 'dry_run_allow' : 'dry_run_deny');
  }

  #inc(policy: string, action: PolicyMatchAction): void {
    const label = clipLabel(policy);
    this.#counter.inc({ policy: this.#cap.admit(label) ? label : OTHER, action });
  }
}

/** The two ends of a flow, as the caller resolved them (SPIFFE ID, destination service). */
export interface FlowLabels {
  readonly source: string;
  readonly destination: string;
}

export class FlowCounter {
  readonly #counter: Counter<'source' | 'destination' | 'decision'>;
  readonly #overflow: Counter;
  readonly #cap: SeriesCap;

  constructor(registry: Registry, maxSeries: number) {
    const registers = [registry];
    this.#cap = new SeriesCap(maxSeries);
    this.#counter = new Counter({
      name: 'meshwarden_flows_total',
      help: 'Decisions per source workload and destination service (capped; the rest under "other").',
      labelNames: ['source', 'destination', 'decision'],
      registers,
    });
    this.#overflow = new Counter({ name: 'meshwarden_flows_overflow_total', help: 'Decisions counted under source="other", destination="other" because the flow cap was reached.', registers });
  }

  record(decision: Decision, flow: FlowLabels): void {
    const source = clipLabel(flow.source);
    const destination = clipLabel(flow.destination);
    const verdict = verdictLabel(decision.verdict);
    if (this.#cap.admit(`${source}\u0000${destination}`)) {
      this.#counter.inc({ source, destination, decision: verdict });
      return;
    }
    this.#overflow.inc();
    this.#counter.inc({ source: OTHER, destination: OTHER, decision: verdict });
  }
}
