/**
 * One cluster worker: the same runtime as a single process, minus the admin server (the
 * primary serves it). It reports readiness and its snapshot to the primary, answers the
 * primary's telemetry requests, reloads and drains when told. SIGTERM sent to the worker
 * itself drains it too; SIGINT is left to the primary, which gets it from the same terminal.
 */
import type { ServerConfig } from '../../config/types.js';
import { answerTelemetryRequests } from '../../telemetry/index.js';
import type { Logger } from '../logger.js';
import { startRuntime, type Runtime } from '../runtime.js';
import { isPrimaryMessage, type WorkerMessage } from './messages.js';
import { registerWorkerChecks } from './worker-checks.js';

export interface WorkerAssignment {
  /** 1..N, kept by a replacement. */
  readonly slot: number;
  /** The primary's config, the gRPC address resolved to the port every worker binds. */
  readonly config: ServerConfig;
}

/** Serves until the primary (or SIGTERM) says stop; resolves with the exit code. */
export async function runWorker(assignment: WorkerAssignment, logger: Logger): Promise<number> {
  let runtime: Runtime | undefined;
  const report = () => {
    if (runtime === undefined) return;
    const snapshot = runtime.policies.current;
    send({
      type: 'meshwarden:worker-state',
      grpc: runtime.grpcAddress,
      ready: runtime.ready(),
      generation: snapshot?.generation,
      hash: snapshot?.hash,
    });
  };
  try {
    const config = { ...assignment.config, admin: { address: 'off' } };
    runtime = await startRuntime(config, logger, { onChange: report });
  } catch (error) {
    await sendAndWait({ type: 'meshwarden:worker-failed', message: error instanceof Error ? error.message : String(error) });
    return 1;
  }
  const registry = runtime.telemetry.metrics.registry;
  registerWorkerChecks(registry, assignment.slot);
  const flows = runtime.telemetry.flows;
  const stopAnswering = answerTelemetryRequests({ registries: [registry], flows: () => flows.toJSON() });
  logger.info({ grpc: runtime.grpcAddress }, 'worker listening');
  report();
  return serveUntilStopped(runtime, logger, stopAnswering, report);
}

function serveUntilStopped(runtime: Runtime, logger: Logger, stopAnswering: () => void, report: () => void): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const reload = () => void runtime.reload().then(report);
    const stop = () => {
      if (stopping) return;
      stopping = true;
      logger.info('worker draining');
      runtime.shutdown().then(
        () => finish(0),
        (error: unknown) => {
          logger.error({ err: error }, 'worker shutdown failed');
          finish(1);
        },
      );
    };
    const finish = (code: number) => {
      stopAnswering();
      process.off('message', onMessage);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', reload);
      resolve(code);
    };
    const onMessage = (message: unknown) => {
      if (!isPrimaryMessage(message)) return;
      if (message.type === 'meshwarden:reload') reload();
      else stop();
    };
    process.on('message', onMessage);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', reload);
    process.on('SIGINT', ignore);
  });
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
