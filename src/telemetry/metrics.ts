/**
 * The Prometheus metrics of one meshwarden process, on a registry of its own (never the
 * global one, so tests and workers do not share state). Labels come from fixed sets only,
 * except the opt-in, capped per-policy and per-flow counters.
 */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../domain/index.js';
import { registerBuildInfo } from './build-info.js';
import { CheckCounters } from './check-counters.js';
import { requireLimit } from './errors.js';
import { FlowCounter, PolicyMatchCounter, type FlowLabels } from './optional-metrics.js';
import { PolicyMetrics, type PolicyGauges } from './policy-metrics.js';
import { registerSourceMetrics, type MetricsSources } from './source-metrics.js';
import { statsCounter } from './stats-source.js';

/** 10 µs … 1 s: a cached decision takes microseconds, a JWKS-backed verification milliseconds. */
export const CHECK_DURATION_BUCKETS: readonly number[] = Object.freeze([
  1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1,
]);

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop, GC). Default true. */
  readonly processMetrics?: boolean;
  readonly sources?: MetricsSources;
  /** Opt-in `meshwarden_policy_matches_total`; policy ids beyond the cap count as `other`. */
  readonly policyMatches?: { readonly maxPolicies: number };
  /** Opt-in `meshwarden_flows_total`; flows beyond the cap count as `other`/`other`. */
  readonly flows?: { readonly maxSeries: number };
}

export interface MetricsDeps {
  /** Epoch milliseconds, for the reload timestamp. */
  readonly now?: () => number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Hot path: one call per Check. Never throws. */
  recordCheck(decision: Decision, durationSeconds: number, flow?: FlowLabels): void;
  policyReloaded(snapshot: PolicyGauges): void;
  policyReloadFailed(): void;
  /** Adds or replaces stats sources (e.g. after the identity layer is built). */
  attach(sources: MetricsSources): void;
  /** Text exposition of everything on the registry. */
  exposition(): Promise<string>;
}

const MAX_POLICY_SERIES = 10_000;
const MAX_FLOW_SERIES = 10_000;

export function createMetrics(options: MetricsOptions = {}, deps: MetricsDeps = {}): Metrics {
  const registry = new Registry();
  let sources: MetricsSources = { ...options.sources };
  const counters = new CheckCounters();
  registerCheckMetrics(registry, counters);
  registerBuildInfo(registry);
  const duration = new Histogram({
    name: 'meshwarden_check_duration_seconds',
    help: 'Time from receiving a Check to answering it.',
    buckets: [...CHECK_DURATION_BUCKETS],
    registers: [registry],
  });
  const policy = new PolicyMetrics(registry, deps.now ?? Date.now);
  registerSourceMetrics(registry, () => sources);
  const matches = optionalPolicyMatches(registry, options);
  const flows = optionalFlows(registry, options);
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    recordCheck(decision, durationSeconds, flow) {
      counters.record(decision);
      if (durationSeconds >= 0 && durationSeconds < Number.POSITIVE_INFINITY) duration.observe(durationSeconds);
      matches?.record(decision);
      if (flows !== undefined && flow !== undefined) flows.record(decision, flow);
    },
    policyReloaded: (snapshot) => policy.reloaded(snapshot),
    policyReloadFailed: () => policy.reloadFailed(),
    attach(more) {
      sources = { ...sources, ...more };
    },
    exposition: () => registry.metrics(),
  };
}

function registerCheckMetrics(registry: Registry, counters: CheckCounters): void {
  statsCounter({
    registry,
    name: 'meshwarden_checks_total',
    help: 'Check decisions by verdict and reason code.',
    labelNames: ['decision', 'reason'],
    read: () => counters.checks(),
  });
  statsCounter({
    registry,
    name: 'meshwarden_dry_run_decisions_total',
    help: 'What dry-run policies would have decided, had they been enforced.',
    labelNames: ['outcome'],
    read: () => counters.dryRun(),
  });
}

function optionalPolicyMatches(registry: Registry, options: MetricsOptions): PolicyMatchCounter | undefined {
  if (options.policyMatches === undefined) return undefined;
  const max = requireLimit('metrics.policyMatches.maxPolicies', options.policyMatches.maxPolicies, MAX_POLICY_SERIES);
  return new PolicyMatchCounter(registry, max);
}

function optionalFlows(registry: Registry, options: MetricsOptions): FlowCounter | undefined {
  if (options.flows === undefined) return undefined;
  return new FlowCounter(registry, requireLimit('metrics.flows.maxSeries', options.flows.maxSeries, MAX_FLOW_SERIES));
}
