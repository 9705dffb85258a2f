/**
 * What every off-box sink shares: the bounded buffer, batching by count, bytes and delay, one
 * batch in flight, retry with exponential backoff, the flush at shutdown, and the counters.
 * The Check path only calls `enqueue`, which is O(1) and never waits: sending happens on
 * timers and in the one sending loop, after the Check has been answered.
 */
import { LineQueue, type QueuedLine } from './line-queue.js';
import type { ResolvedDecisionSinkOptions } from './options.js';
import { DropCounts, type DropReason, type SinkStats } from './stats.js';

export type SendOutcome = 'sent' | 'retry' | 'rejected';

/** How one kind of sink writes a batch; the shipper decides when and how much. */
export interface Transport<L> {
  /** One line as it travels (JSON text), for the byte bound of a batch. */
  encode(entry: QueuedLine<L>): string;
  /** Sends one batch. Resolves with the outcome and never rejects; `signal` aborts at shutdown. */
  send(batch: Batch<L>, signal: AbortSignal): Promise<SendOutcome>;
  close(): Promise<void>;
}

export interface Batch<L> {
  readonly entries: readonly QueuedLine<L>[];
  readonly encoded: readonly string[];
}

export interface ShipperDeps {
  readonly random?: () => number;
}

interface Encoded<L> {
  readonly entry: QueuedLine<L>;
  readonly text: string;
  readonly bytes: number;
}

export class Shipper<L> {
  readonly drops: DropCounts;
  private readonly queue: LineQueue<L>;
  private readonly random: () => number;
  /** A line taken off the queue that did not fit the last batch: first in the next one. */
  private carry: Encoded<L> | undefined;
  private sentLines = 0;
  private sentBatches = 0;
  private failures = 0;
  private running = false;
  private flushing = false;
  private closed = false;
  private delayTimer: NodeJS.Timeout | undefined;
  private kickPending = false;
  private inFlight = 0;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly options: ResolvedDecisionSinkOptions,
    private readonly transport: Transport<L>,
    deps: ShipperDeps = {},
  ) {
    this.drops = new DropCounts(options.name);
    this.queue = new LineQueue(options.bufferMaxLines, (reason, count) => this.drops.add(reason, count));
    this.random = deps.random ?? Math.random;
  }

  get name(): string {
    return this.options.name;
  }

  /** Hot path: buffers one line (or drops it, counted) and returns at once. */
  enqueue(line: L, timeMs: number, deny: boolean): void {
    if (this.closed) return this.drops.add('shutdown');
    this.queue.push(line, timeMs, deny);
    if (this.running) return;
    if (this.queue.size >= this.fullBatch) this.kick();
    else this.delayTimer ??= unrefTimer(() => this.start(), this.options.batch.maxDelayMs);
  }

  /** Lines that make a batch worth sending at once: a full batch, or a full buffer. */
  private get fullBatch(): number {
    return Math.min(this.options.batch.maxLines, this.options.bufferMaxLines);
  }

  stats(): SinkStats {
    return {
      sink: this.options.name,
      sentLines: this.sentLines,
      sentBatches: this.sentBatches,
      failures: this.failures,
      buffered: this.queue.size + this.inFlight + (this.carry ? 1 : 0),
    };
  }

  /**
   * Sends everything buffered without waiting for batch delays; what is still unsent after
   * `timeoutMs` is dropped (reason `shutdown`) and the sink closes.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.flushing = true;
    this.start();
    const drained = await within(this.idle(), timeoutMs);
    this.closed = true;
    if (!drained) {
      this.abort.abort();
      this.discardAll('shutdown');
    }
    clearTimeout(this.delayTimer);
    await this.transport.close();
  }

  private kick(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.start();
    });
  }

  private start(): void {
    clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    if (this.running || this.closed) return;
    this.running = true;
    void this.run()
      .catch(() => this.discardAll('rejected')) // a transport that throws is a bug: lose its lines, counted, never the process
      .finally(() => {
        this.running = false;
        this.afterRun();
      });
  }

  private afterRun(): void {
    if (this.isEmpty()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    } else if (!this.closed) {
      if (this.flushing || this.queue.size >= this.fullBatch) this.kick();
      else this.delayTimer ??= unrefTimer(() => this.start(), this.options.batch.maxDelayMs);
    }
  }

  /** Sends full batches back to back; a partial one only when its delay is up or we flush. */
  private async run(): Promise<void> {
    let partialAllowed = true;
    while (!this.closed && !this.isEmpty()) {
      if (!partialAllowed && !this.flushing && this.queue.size + (this.carry ? 1 : 0) < this.fullBatch) return;
      const batch = this.takeBatch();
      if (batch.entries.length > 0) await this.deliver(batch);
      partialAllowed = false;
    }
  }

  private takeBatch(): Batch<L> {
    const { maxLines, maxBytes } = this.options.batch;
    const entries: QueuedLine<L>[] = [];
    const encoded: string[] = [];
    let bytes = 2; // the array's brackets
    while (entries.length < maxLines) {
      const next = this.carry ?? this.encodeNext();
      this.carry = undefined;
      if (next === undefined) break;
      if (next.bytes + 2 > maxBytes) {
        this.drops.add('too_large');
        continue;
      }
      const added = next.bytes + (entries.length > 0 ? 1 : 0);
      if (bytes + added > maxBytes) {
        this.carry = next;
        break;
      }
      bytes += added;
      entries.push(next.entry);
      encoded.push(next.text);
    }
    return { entries, encoded };
  }

  private encodeNext(): Encoded<L> | undefined {
    for (let entry = this.queue.shift(); entry !== undefined; entry = this.queue.shift()) {
      try {
        const text = this.transport.encode(entry);
        return { entry, text, bytes: Buffer.byteLength(text) };
      } catch {
        this.drops.add('rejected'); // a line that cannot be encoded would never be accepted
      }
    }
    return undefined;
  }

  /** One batch until it is sent, refused for good, or the sink closes. */
  private async deliver(batch: Batch<L>): Promise<void> {
    this.inFlight = batch.entries.length;
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        const outcome = await this.transport.send(batch, this.abort.signal).catch((): SendOutcome => 'rejected');
        if (outcome === 'sent') {
          this.sentLines += batch.entries.length;
          this.sentBatches++;
          return;
        }
        if (outcome === 'rejected') return this.drops.add('rejected', batch.entries.length);
        this.failures++;
        await this.backoff(attempt);
      }
      this.drops.add('shutdown', batch.entries.length);
    } finally {
      this.inFlight = 0;
    }
  }

  /** Exponential, capped, with jitter so replicas that failed together do not retry together. */
  private backoff(attempt: number): Promise<void> {
    const { minDelayMs, maxDelayMs } = this.options.retry;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
    const ms = ceiling * (0.5 + this.random() / 2);
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener('abort', done);
    });
  }

  private isEmpty(): boolean {
    return this.queue.size === 0 && this.carry === undefined;
  }

  private idle(): Promise<void> {
    if (this.isEmpty() && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private discardAll(reason: DropReason): void {
    if (this.carry !== undefined) this.drops.add(reason);
    this.carry = undefined;
    this.queue.discard(reason);
  }
}

function unrefTimer(callback: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return timer;
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
