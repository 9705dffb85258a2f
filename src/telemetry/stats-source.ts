/**
 * Prometheus series read at scrape time from plain stats that other layers own (caches,
 * identity verifiers, the decision log), so those layers stay free of prom-client and their
 * hot paths only bump numbers.
 */
import { Counter, Gauge, type Aggregator, type Registry } from 'prom-client';

export type Labels<L extends string> = Readonly<Record<L, string>>;
export type Sample<L extends string> = readonly [labels: Labels<L>, value: number];

export interface StatsMetricConfig<L extends string> {
  readonly registry: Registry;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Called on every scrape; returns the current value of each series. */
  readonly read: () => Iterable<Sample<L>>;
  /** How the primary combines workers' values; `sum` unless said otherwise. */
  readonly aggregator?: Aggregator;
}

/** A counter whose value is the source's running total (which must only grow, bar restarts). */
export function statsCounter<L extends string>(config: StatsMetricConfig<L>): Counter<L> {
  return new Counter<L>({
    ...metricConfig(config),
    collect(this: Counter<L>) {
      publish(this, config.read, (labels, value) => this.inc(labels, value), isCount);
    },
  });
}

/** A gauge whose value is the source's current reading. */
export function statsGauge<L extends string>(config: StatsMetricConfig<L>): Gauge<L> {
  return new Gauge<L>({
    ...metricConfig(config),
    collect(this: Gauge<L>) {
      publish(this, config.read, (labels, value) => this.set(labels, value), Number.isFinite);
    },
  });
}

/** Label-less sample, for the common single-series case. */
export function single(value: number): Iterable<Sample<never>> {
  return [[{}, value]];
}

function metricConfig<L extends string>(config: StatsMetricConfig<L>) {
  return {
    name: config.name,
    help: config.help,
    labelNames: config.labelNames,
    registers: [config.registry],
    aggregator: config.aggregator ?? 'sum',
  };
}

function publish<L extends string>(
  metric: { reset(): void },
  read: () => Iterable<Sample<L>>,
  apply: (labels: Labels<L>, value: number) => void,
  valid: (value: number) => boolean,
): void {
  let samples: Sample<L>[];
  try {
    samples = [...read()];
  } catch {
    // A failing source keeps its last values: one layer's broken stats never fail a scrape.
    return;
  }
  metric.reset();
  for (const [labels, value] of samples) if (valid(value)) apply(labels, value);
}

function isCount(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}
