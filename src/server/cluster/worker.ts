/**
 * One cluster worker: the same runtime as a single process, minus the admin server (the
 * primary serves it). It reports readiness and its snapshot to the primary, answers the
 * primary's telemetry requests, reloads and drains when told. SIGTERM sent to the worker
 * itself drains it too; SIGINT is left to the primary, which gets it from the same terminal.
 */
import type { ServerConfig } from '../../config/index.js';
import { answerTelemetryRequests } from '../../telemetry/index.js';
import type { Logger } from '../logger.js';
import { startRuntime, type Runtime } from '../runtime.js';
import { isPrimaryMessage, type WorkerMessage } from './messages.js';
import { registerWorkerChecks } from './worker-checks.js';

export interface WorkerAssignment {
  /** 1..N, kept by a replacement. */
  readonly slot: number;
  /** The primary's config, the gRPC and HTTP addresses resolved to the ports every worker binds. */
  readonly config: ServerConfig;
}

/** Serves until the primary (or SIGTERM) says stop; resolves with the exit code. */
export async function runWorker(assignment: WorkerAssignment, logger: Logger): Promise<number> {
  // Listening from the first moment: a stop asked for while the runtime starts is not lost.
  const control = new WorkerControl(logger);
  let runtime: Runtime | undefined;
  const report = () => {
    if (runtime === undefined) return;
    const snapshot = runtime.policies.current;
    const ready = runtime.ready();
    send({
      type: 'meshwarden:worker-state',
      grpc: runtime.grpcAddress,
      ready,
      ...(ready ? {} : { reason: runtime.whyNotReady() }),
      generation: snapshot?.generation,
      hash: snapshot?.hash,
    });
  };
  try {
    runtime = await startRuntime({ ...assignment.config, admin: { address: 'off', ui: false } }, logger, { onChange: report });
  } catch (error) {
    control.close();
    await sendAndWait({ type: 'meshwarden:worker-failed', message: error instanceof Error ? error.message : String(error) });
    return 1;
  }
  const registry = runtime.telemetry.metrics.registry;
  registerWorkerChecks(registry, assignment.slot);
  const flows = runtime.telemetry.flows;
  const stopAnswering = answerTelemetryRequests({ registries: [registry], flows: () => flows.toJSON() });
  logger.info({ grpc: runtime.grpcAddress, http: runtime.httpAddress ?? 'off' }, 'worker listening');
  report();
  const code = await control.serve(runtime, report);
  stopAnswering();
  return code;
}

/** The primary's messages and the signals, turned into reload and stop. */
class WorkerControl {
  readonly #logger: Logger;
  #runtime: Runtime | undefined;
  #report: () => void = () => {};
  #stopAsked = false;
  #stopping = false;
  #resolve: (code: number) => void = () => {};

  constructor(logger: Logger) {
    this.#logger = logger;
    process.on('message', this.#onMessage);
    process.on('SIGTERM', this.#stop);
    process.on('SIGHUP', this.#reload);
    process.on('SIGINT', ignore);
  }

  serve(runtime: Runtime, report: () => void): Promise<number> {
    this.#runtime = runtime;
    this.#report = report;
    const stopped = new Promise<number>((resolve) => (this.#resolve = resolve));
    if (this.#stopAsked) this.#stop();
    return stopped;
  }

  close(): void {
    process.off('message', this.#onMessage);
    process.off('SIGTERM', this.#stop);
    process.off('SIGHUP', this.#reload);
  }

  readonly #onMessage = (message: unknown): void => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === 'meshwarden:reload') this.#reload();
    else this.#stop();
  };

  readonly #reload = (): void => {
    void this.#runtime?.reload().then(this.#report);
  };

  readonly #stop = (): void => {
    const runtime = this.#runtime;
    this.#stopAsked = true;
    if (runtime === undefined || this.#stopping) return;
    this.#stopping = true;
    this.#logger.info('worker draining');
    runtime.shutdown().then(
      () => this.#finish(0),
      (error: unknown) => {
        this.#logger.error({ err: error }, 'worker shutdown failed');
        this.#finish(1);
      },
    );
  };

  #finish(code: number): void {
    this.close();
    this.#resolve(code);
  }
}

function ignore(): void {}

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/** Before an exit: a message merely queued would be lost with the process. */
function sendAndWait(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}
