/**
 * The decision log: one JSON line per logged decision, for the SIEM. Denies, failed
 * authentication, invalid requests, audited and dry-run-deny decisions are always logged;
 * plain allows are sampled. A token bucket caps the volume, and what it drops is counted.
 */
import { openSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { AccessRequest, Authorization, Decision } from '../domain/index.js';
import { decisionLine } from './decision-line.js';
import { resolveDecisionLogOptions, type DecisionLogOptions, type DecisionLogOutput } from './decision-log-options.js';
import { TelemetryOptionError } from './errors.js';
import { TokenBucket } from './token-bucket.js';

export interface DecisionLog {
  /** Hot path: logs (or samples, or drops) the decision of one Check. Never throws. */
  record(result: Authorization, request: AccessRequest | undefined, durationSeconds: number): void;
  /** Lines dropped so far by the volume limit or a failed output; feeds a metric. */
  dropped(): number;
  flush(): Promise<void>;
  /** Flushes and closes the output (a file is closed; stdout is left open). */
  close(): Promise<void>;
}

export interface DecisionLogDeps {
  /** Epoch milliseconds, for `time` and the volume limit. */
  readonly now?: () => number;
  /** Uniform in [0, 1), for allow sampling. */
  readonly random?: () => number;
  /** Write here instead of `options.output` (tests, or an embedding application). */
  readonly stream?: DestinationStream;
}

interface Sink {
  readonly stream: DestinationStream;
  close(): Promise<void>;
  failed(): boolean;
}

export function createDecisionLog(options: DecisionLogOptions = {}, deps: DecisionLogDeps = {}): DecisionLog {
  const resolved = resolveDecisionLogOptions(options);
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const sink = deps.stream === undefined ? openSink(resolved.output) : borrowedSink(deps.stream);
  const logger = createLogger(sink.stream, now);
  const rate = resolved.maxLinesPerSecond;
  const bucket = Number.isFinite(rate) ? new TokenBucket(rate, Math.max(1, rate), now) : undefined;
  let dropped = 0;
  let closed = false;

  return {
    record(result, request, durationSeconds) {
      if (closed || !(mustLog(result.decision) || sampled(resolved.allowSampleRate, random))) return;
      if ((bucket !== undefined && !bucket.take()) || sink.failed()) {
        dropped++;
        return;
      }
      try {
        logger.info(decisionLine(result, request, durationSeconds, resolved.headers));
      } catch {
        dropped++; // a log line is never worth failing a Check for
      }
    },
    dropped: () => dropped,
    flush: () => flushLogger(logger),
    async close() {
      if (closed) return;
      closed = true;
      await flushLogger(logger);
      await sink.close();
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

function createLogger(stream: DestinationStream, now: () => number): Logger {
  return pino(
    {
      base: null,
      timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
      // Every line is a decision at one level; a `log` tag in its place lets a SIEM tell
      // decisions from operational logs that share stdout.
      formatters: { level: () => ({ log: 'decision' }) },
    },
    stream,
  );
}

function openSink(output: DecisionLogOutput): Sink {
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

function borrowedSink(stream: DestinationStream): Sink {
  return { stream, failed: () => false, close: async () => undefined };
}

function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
