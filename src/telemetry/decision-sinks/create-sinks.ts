/** The configured off-box sinks as one fan-out: each line goes to every sink's own buffer. */
import type { DecisionLine } from '../decision-line.js';
import { httpTransport } from './http-transport.js';
import { otlpTransport } from './otlp-transport.js';
import type { ResolvedDecisionSinkOptions } from './options.js';
import { Shipper, type ShipperDeps, type Transport } from './shipper.js';
import type { DropSample, SinkStats } from './stats.js';

export interface DecisionSinks {
  /** Hot path: hands the line to every sink's buffer; O(1) per sink, never waits. */
  enqueue(line: DecisionLine, timeMs: number): void;
  /** Sends what is buffered; what is unsent after `timeoutMs` is dropped (reason `shutdown`). */
  close(timeoutMs: number): Promise<void>;
  dropped(): DropSample[];
  stats(): SinkStats[];
}

export function createDecisionSinks(sinks: readonly ResolvedDecisionSinkOptions[], deps: ShipperDeps = {}): DecisionSinks {
  const shippers = sinks.map((options) => new Shipper(options, transportFor(options), deps));
  return {
    enqueue(line, timeMs) {
      const deny = line.decision !== 'allow';
      for (const shipper of shippers) shipper.enqueue(line, timeMs, deny);
    },
    async close(timeoutMs) {
      await Promise.all(shippers.map((shipper) => shipper.close(timeoutMs)));
    },
    dropped: () => shippers.flatMap((shipper) => shipper.drops.samples()),
    stats: () => shippers.map((shipper) => shipper.stats()),
  };
}

function transportFor(options: ResolvedDecisionSinkOptions): Transport<DecisionLine> {
  return options.type === 'http' ? httpTransport(options) : otlpTransport(options);
}
