/**
 * The decision log: one JSON line per logged decision, for the SIEM. Denies, failed
 * authentication, invalid requests, audited and dry-run-deny decisions are always logged;
 * plain allows are sampled. Drop rules skip lines, a token bucket caps the volume, mask rules
 * hide fields; then the line goes to stdout or a file and to every off-box sink's buffer.
 * Every line lost on the way is counted by sink and reason.
 */
import { openSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { AccessRequest, Authorization, Decision } from '../domain/index.js';
import { decisionLine, type DecisionLine } from './decision-line.js';
import { ecsDocument, ECS_DATASET } from './decision-log-ecs.js';
import {
  resolveDecisionLogOptions,
  type DecisionLogFormat,
  type DecisionLogOptions,
  type DecisionLogOutput,
  type ResolvedDecisionLogOptions,
} from './decision-log-options.js';
import { createDecisionSinks, DropCounts, type DecisionLogStats, type DecisionSinks, type ShipperDeps } from './decision-sinks/index.js';
import { TelemetryOptionError } from './errors.js';
import { TokenBucket } from './token-bucket.js';

export interface DecisionLog {
  /** Hot path: logs (or samples, or drops) the decision of one Check. Never throws. */
  record(result: Authorization, request: AccessRequest | undefined, durationSeconds: number): void;
  /** Lines lost so far, all sinks and reasons together. */
  dropped(): number;
  /** Running totals by sink and reason; feeds the `meshwarden_decision_log_*` metrics. */
  stats(): DecisionLogStats;
  flush(): Promise<void>;
  /**
   * Flushes and closes the output (a file is closed; stdout is left open) and ships what the
   * sinks hold; what they still hold after `timeoutMs` is dropped (reason `shutdown`).
   */
  close(timeoutMs?: number): Promise<void>;
}

export interface DecisionLogDeps {
  /** Epoch milliseconds, for `time` and the volume limit. */
  readonly now?: () => number;
  /** Uniform in [0, 1), for allow sampling. */
  readonly random?: () => number;
  /** Write here instead of `options.output` (tests, or an embedding application). */
  readonly stream?: DestinationStream;
  /** For the off-box sinks' retry jitter. */
  readonly sinks?: ShipperDeps;
}

interface Output {
  readonly stream: DestinationStream;
  close(): Promise<void>;
  failed(): boolean;
}

export function createDecisionLog(options: DecisionLogOptions = {}, deps: DecisionLogDeps = {}): DecisionLog {
  const resolved = resolveDecisionLogOptions(options);
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const output = lineWriter(resolved, deps, now);
  const sinks: DecisionSinks | undefined = resolved.sinks.length > 0 ? createDecisionSinks(resolved.sinks, deps.sinks) : undefined;
  const rate = resolved.maxLinesPerSecond;
  const bucket = Number.isFinite(rate) ? new TokenBucket(rate, Math.max(1, rate), now) : undefined;
  const beforeSinks = new DropCounts('all');
  let filtered = 0;
  let closed = false;

  const stats = (): DecisionLogStats => ({
    dropped: [...beforeSinks.samples(), ...output.drops.samples(), ...(sinks?.dropped() ?? [])],
    sinks: sinks?.stats() ?? [],
    filtered,
  });

  return {
    record(result, request, durationSeconds) {
      if (closed || !(mustLog(result.decision) || sampled(resolved.allowSampleRate, random))) return;
      try {
        const line = decisionLine(result, request, durationSeconds, resolved.headers);
        if (resolved.dropLine?.(line)) {
          filtered++;
          return;
        }
        if (bucket !== undefined && !bucket.take()) return beforeSinks.add('rate_limited');
        const masked = resolved.maskLine === undefined ? line : resolved.maskLine(line);
        output.write(masked);
        sinks?.enqueue(masked, now());
      } catch {
        output.drops.add('output_error'); // a log line is never worth failing a Check for
      }
    },
    dropped: () => stats().dropped.reduce((sum, sample) => sum + sample.count, 0),
    stats,
    flush: () => output.flush(),
    async close(timeoutMs = resolved.closeTimeoutMs) {
      if (closed) return;
      closed = true;
      await Promise.all([output.close(), sinks?.close(timeoutMs)]);
    },
  };
}

interface LineWriter {
  write(line: DecisionLine): void;
  readonly drops: DropCounts;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Stdout, stderr, a file or a borrowed stream, in the configured format; nothing when the output is off. */
function lineWriter(resolved: ResolvedDecisionLogOptions, deps: DecisionLogDeps, now: () => number): LineWriter {
  const drops = new DropCounts(outputName(resolved.output, deps.stream));
  const output = deps.stream === undefined ? openOutput(resolved.output) : borrowedOutput(deps.stream);
  if (output === undefined) return { write: () => undefined, drops, flush: async () => undefined, close: async () => undefined };
  const logger = createLogger(output.stream, now, resolved.format);
  const shaped = resolved.format === 'ecs' ? ecsDocument : (line: DecisionLine) => line;
  return {
    write(line) {
      if (output.failed()) drops.add('output_error');
      else logger.info(shaped(line));
    },
    drops,
    flush: () => flushLogger(logger),
    async close() {
      await flushLogger(logger);
      await output.close();
    },
  };
}

/** Decisions an operator must see: anything but a plain, unaudited, dry-run-clean allow. */
export function mustLog(decision: Decision): boolean {
  return decision.verdict !== 'allow' || decision.audit !== undefined || decision.dryRun?.verdict === 'deny';
}

function sampled(rate: number, random: () => number): boolean {
  return rate >= 1 || (rate > 0 && random() < rate);
}

function createLogger(stream: DestinationStream, now: () => number, format: DecisionLogFormat): Logger {
  const time = () => new Date(now()).toISOString();
  if (format === 'ecs') {
    return pino(
      { base: null, timestamp: () => `,"@timestamp":"${time()}"`, formatters: { level: () => ({ log: { level: 'info', logger: ECS_DATASET } }) } },
      stream,
    );
  }
  return pino(
    {
      base: null,
      timestamp: () => `,"time":"${time()}"`,
      // Every line is a decision at one level; a `log` tag in its place lets a SIEM tell
      // decisions from operational logs that share stdout.
      formatters: { level: () => ({ log: 'decision' }) },
    },
    stream,
  );
}

function outputName(output: DecisionLogOutput, stream: DestinationStream | undefined): string {
  if (stream !== undefined) return 'stream';
  if (output.kind === 'fd') return output.fd === 1 ? 'stdout' : 'stderr';
  return output.kind;
}

function openOutput(output: DecisionLogOutput): Output | undefined {
  if (output.kind === 'off') return undefined;
  const fd = output.kind === 'fd' ? output.fd : openForAppend(output.path);
  const destination = pino.destination({ dest: fd, sync: false });
  let failed = false;
  // An output that breaks (disk full, closed pipe) drops lines; it must not crash the server.
  destination.on('error', () => {
    failed = true;
  });
  return {
    stream: destination,
    failed: () => failed,
    close: () =>
      new Promise<void>((resolve) => {
        destination.once('close', () => resolve());
        destination.once('error', () => resolve());
        destination.end();
      }),
  };
}

/** Opened synchronously so a bad path fails at start-up, not on the first denied request. */
function openForAppend(path: string): number {
  try {
    return openSync(path, 'a', 0o640); // lines name principals and paths: not world-readable
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TelemetryOptionError('ERR_TELEMETRY_OUTPUT', 'decisionLog.output', `cannot open ${path}: ${reason}`);
  }
}

function borrowedOutput(stream: DestinationStream): Output {
  return { stream, failed: () => false, close: async () => undefined };
}

function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
