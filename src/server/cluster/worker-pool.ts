/**
 * The primary's workers: forks one per slot, follows what each reports, replaces a worker
 * that exits unasked (after a backoff), and stops them all on request. Start-up is strict:
 * a worker that cannot start fails the whole start, with the worker's own error, as a
 * single process would; only once serving are crashes met with replacements.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../logger.js';
import { StartupError } from '../runtime.js';
import { isWorkerMessage, type PrimaryMessage, type WorkerMessage, type WorkerState } from './messages.js';
import { DEFAULT_BACKOFF, RestartBackoff, type BackoffOptions } from './restart-backoff.js';

export interface WorkerPoolOptions {
  readonly size: number;
  /** The module each worker runs. */
  readonly exec: string;
  /** Environment added for the worker of `slot` (1..size). */
  readonly env: (slot: number) => Record<string, string>;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
  /** Told whenever a worker's readiness changes or it exits. */
  readonly onChange?: () => void;
  readonly now?: () => number;
}

export interface WorkerView {
  readonly slot: number;
  readonly pid: number | undefined;
  readonly ready: boolean;
  /** Why a live worker is not ready, as it said; absent while it has said nothing yet. */
  readonly reason?: string;
  readonly generation: number | undefined;
  readonly hash: string | undefined;
}

interface Slot {
  readonly number: number;
  readonly backoff: RestartBackoff;
  worker: Worker | undefined;
  startedAt: number;
  state: WorkerState | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

interface Startup {
  readonly waiting: Set<number>;
  resolve(): void;
  reject(error: Error): void;
}

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[];
  readonly #now: () => number;
  #startup: Startup | undefined;
  #stopping = false;
  #restarts = 0;
  #exited: (() => void) | undefined;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new TypeError('worker pool size must be an integer >= 1');
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#slots = Array.from({ length: options.size }, (_, i) => ({
      number: i + 1,
      backoff: new RestartBackoff(backoff),
      worker: undefined,
      startedAt: 0,
      state: undefined,
      restartTimer: undefined,
    }));
  }

  /** Forks every worker; resolves once each has reported, rejects if one cannot start. */
  start(): Promise<void> {
    cluster.setupPrimary({ exec: this.#options.exec, args: [], silent: false });
    return new Promise((resolve, reject) => {
      this.#startup = { waiting: new Set(this.#slots.map((slot) => slot.number)), resolve, reject };
      for (const slot of this.#slots) this.#fork(slot);
    });
  }

  /** Restarts since start. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Every slot has a live worker that says it is ready. */
  allReady(): boolean {
    return this.#slots.every((slot) => slot.worker !== undefined && slot.state?.ready === true);
  }

  view(): WorkerView[] {
    return this.#slots.map((slot) => {
      const ready = slot.worker !== undefined && slot.state?.ready === true;
      const reason = ready || slot.worker === undefined ? undefined : slot.state?.reason;
      return {
        slot: slot.number,
        pid: slot.worker?.process.pid,
        ready,
        ...(reason === undefined ? {} : { reason }),
        generation: slot.state?.generation,
        hash: slot.state?.hash,
      };
    });
  }

  /** Workers serving now (listening, connected): the ones to ask for telemetry. */
  serving(): Worker[] {
    return this.#slots.flatMap((slot) =>
      slot.worker !== undefined && slot.state !== undefined && slot.worker.isConnected() ? [slot.worker] : [],
    );
  }

  broadcast(message: PrimaryMessage): void {
    for (const slot of this.#slots) if (slot.worker?.isConnected()) slot.worker.send(message);
  }

  /** Tells every worker to drain; SIGKILLs those still there after `graceMs`. Resolves once all exited. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    for (const slot of this.#slots) clearTimeout(slot.restartTimer);
    const alive = () => this.#slots.some((slot) => slot.worker !== undefined);
    if (!alive()) return;
    const exited = new Promise<void>((resolve) => {
      this.#exited = () => {
        if (!alive()) resolve();
      };
    });
    for (const slot of this.#slots) {
      if (slot.worker === undefined) continue;
      // One still starting may not listen to IPC yet; SIGTERM stops it either way (its handler drains, or the default exits).
      if (slot.state !== undefined && slot.worker.isConnected()) slot.worker.send({ type: 'meshwarden:shutdown' });
      else slot.worker.process.kill('SIGTERM');
    }
    const killer = setTimeout(() => {
      for (const slot of this.#slots) {
        if (slot.worker === undefined) continue;
        this.#options.logger.warn({ worker: slot.number, pid: slot.worker.process.pid }, 'worker did not drain in time; killing it');
        slot.worker.process.kill('SIGKILL');
      }
    }, graceMs);
    await exited;
    clearTimeout(killer);
  }

  #fork(slot: Slot): void {
    slot.restartTimer = undefined;
    slot.state = undefined;
    slot.startedAt = this.#now();
    const worker = cluster.fork(this.#options.env(slot.number));
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (isWorkerMessage(message)) this.#received(slot, worker, message);
    });
    worker.on('error', (error) => this.#options.logger.warn({ worker: slot.number, err: error }, 'worker channel error'));
    worker.once('exit', (code, signal) => this.#exitedWorker(slot, worker, code, signal));
  }

  #received(slot: Slot, worker: Worker, message: WorkerMessage): void {
    if (slot.worker !== worker) return;
    if (message.type === 'meshwarden:worker-failed') {
      if (this.#startup !== undefined) this.#failStartup(new StartupError(message.message));
      else this.#options.logger.error({ worker: slot.number, error: message.message }, 'worker failed to start');
      return;
    }
    slot.state = message;
    if (this.#startup !== undefined) {
      this.#startup.waiting.delete(slot.number);
      if (this.#startup.waiting.size === 0) {
        this.#startup.resolve();
        this.#startup = undefined;
      }
    }
    this.#options.onChange?.();
  }

  #exitedWorker(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.state = undefined;
    this.#options.onChange?.();
    if (this.#stopping) return this.#exited?.();
    const exit = { worker: slot.number, pid: worker.process.pid, code, signal };
    if (this.#startup !== undefined) {
      return this.#failStartup(new StartupError(`worker ${slot.number} exited before serving (code ${code}, signal ${signal})`));
    }
    const delay = slot.backoff.next(this.#now() - slot.startedAt);
    this.#options.logger.warn({ ...exit, restartInMs: delay }, 'worker exited; starting a replacement');
    slot.restartTimer = setTimeout(() => {
      this.#restarts += 1;
      this.#fork(slot);
    }, delay);
  }

  /** No replacements from here on: the caller stops the pool. */
  #failStartup(error: Error): void {
    this.#stopping = true;
    const startup = this.#startup;
    this.#startup = undefined;
    startup?.reject(error);
  }
}
