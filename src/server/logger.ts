/**
 * The operational log (start, listen, reload, errors): JSON lines on stderr, so that stdout
 * stays free for the decision log. Never given request credentials.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name = 'meshwarden'): Logger {
  return pino({ name, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
