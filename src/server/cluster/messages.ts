/**
 * The IPC protocol between the primary and its workers, beside the telemetry requests of
 * telemetry/cluster-telemetry.ts. Messages are plain JSON; every receiver checks the shape.
 */

/** Primary → worker. */
export type PrimaryMessage = { readonly type: 'meshwarden:reload' } | { readonly type: 'meshwarden:shutdown' };

/** What a worker tells the primary whenever its readiness or its snapshot may have changed. */
export interface WorkerState {
  readonly type: 'meshwarden:worker-state';
  /** The gRPC address it serves. */
  readonly grpc: string;
  readonly ready: boolean;
  /** Why not, when not ready: the words its own `/readyz` would use, for the primary's. */
  readonly reason?: string;
  readonly generation: number | undefined;
  readonly hash: string | undefined;
}

/** A worker that cannot start says why before it exits, so the primary fails with the same words. */
export interface WorkerFailed {
  readonly type: 'meshwarden:worker-failed';
  readonly message: string;
}

export type WorkerMessage = WorkerState | WorkerFailed;

/** Handed to a worker at fork, in its environment: the primary's config, with the address resolved. */
export const WORKER_ENV = 'MESHWARDEN_CLUSTER_WORKER';

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return isRecord(message) && (message['type'] === 'meshwarden:reload' || message['type'] === 'meshwarden:shutdown');
}

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  if (!isRecord(message)) return false;
  switch (message['type']) {
    case 'meshwarden:worker-state':
      return (
        typeof message['grpc'] === 'string' &&
        typeof message['ready'] === 'boolean' &&
        (message['reason'] === undefined || typeof message['reason'] === 'string')
      );
    case 'meshwarden:worker-failed':
      return typeof message['message'] === 'string';
    default:
      return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
