/**
 * The entry point the primary forks (node:cluster `exec`): reads the assignment the primary
 * put in the environment, serves, and exits with the worker's code.
 */
import type { ServerConfig } from '../../config/index.js';
import { createLogger } from '../logger.js';
import { WORKER_ENV } from './messages.js';
import { runWorker, type WorkerAssignment } from './worker.js';

const assignment = readAssignment(process.env[WORKER_ENV]);
const code = await runWorker(assignment, createLogger().child({ worker: assignment.slot }));
// exit(), not exitCode: the IPC channel would keep the process alive; logs are written synchronously.
process.exit(code);

function readAssignment(text: string | undefined): WorkerAssignment {
  if (text === undefined) throw new TypeError(`${WORKER_ENV} is not set: this module is forked by the meshwarden primary`);
  const parsed = JSON.parse(text) as { slot: number; config: ServerConfig };
  return { slot: parsed.slot, config: parsed.config };
}
