/**
 * Policy snapshot metrics. The gauges say how the primary combines workers: `min` for the
 * generation and reload time (what every worker has reached), one `info` series per distinct
 * hash (so workers that disagree show up as two series).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { clipLabel } from './capped-series.js';

/** What a successful reload put in service. */
export interface PolicyGauges {
  readonly generation: number;
  /** Number of compiled rules across all policies. */
  readonly rules: number;
  /** Content hash of the policy sources (operator data, not request data). */
  readonly hash: string;
}

export class PolicyMetrics {
  readonly #reloads: Counter<'result'>;
  readonly #generation: Gauge;
  readonly #rules: Gauge;
  readonly #info: Gauge<'hash'>;
  readonly #lastSuccess: Gauge;
  readonly #lastFailure: Gauge;
  readonly #now: () => number;

  constructor(registry: Registry, now: () => number) {
    const registers = [registry];
    this.#now = now;
    this.#reloads = new Counter({ name: 'meshwarden_policy_reloads_total', help: 'Policy reloads by result.', labelNames: ['result'], registers });
    this.#reloads.inc({ result: 'success' }, 0);
    this.#reloads.inc({ result: 'failure' }, 0);
    this.#generation = new Gauge({ name: 'meshwarden_policy_generation', help: 'Generation of the policy snapshot in service.', registers, aggregator: 'min' });
    this.#rules = new Gauge({ name: 'meshwarden_policy_rules', help: 'Compiled rules in the policy snapshot in service.', registers, aggregator: 'max' });
    this.#info = new Gauge({ name: 'meshwarden_policy_info', help: 'Always 1, labelled with the hash of the policy snapshot in service.', labelNames: ['hash'], registers, aggregator: 'max' });
    this.#lastSuccess = new Gauge({
      name: 'meshwarden_policy_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last successful policy load.',
      registers,
      aggregator: 'min',
    });
    // Beside the success time, it says whether the newest attempt failed (failure > success):
    // the file an operator deployed is not the one in service. 0 until a reload fails.
    this.#lastFailure = new Gauge({
      name: 'meshwarden_policy_last_reload_failure_timestamp_seconds',
      help: 'Unix time of the last failed policy reload (0 if none failed).',
      registers,
      aggregator: 'max',
    });
  }

  reloaded(snapshot: PolicyGauges): void {
    this.#reloads.inc({ result: 'success' });
    this.#generation.set(snapshot.generation);
    this.#rules.set(snapshot.rules);
    // Only the hash in service keeps a series; older ones would read as still deployed.
    this.#info.reset();
    this.#info.set({ hash: clipLabel(snapshot.hash) }, 1);
    this.#lastSuccess.set(this.#now() / 1000);
  }

  reloadFailed(): void {
    this.#reloads.inc({ result: 'failure' });
    this.#lastFailure.set(this.#now() / 1000);
  }
}
