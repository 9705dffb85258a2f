/**
 * Process lifecycle of a serving meshwarden: SIGHUP reloads, SIGTERM and SIGINT drain and
 * exit 0. Resolves with the exit code once the runtime is shut down.
 */
import type { Logger } from './logger.js';
import type { Runtime } from './runtime.js';

/** One serving process, or the primary of a cluster of them. */
export type Serving = Pick<Runtime, 'reload' | 'shutdown'>;

export function runUntilSignalled(runtime: Serving, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    const onHangup = () => {
      logger.info('SIGHUP: reloading policies and trust material');
      void runtime.reload();
    };
    const onTerminate = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onTerminate);
      process.off('SIGINT', onTerminate);
      process.off('SIGHUP', onHangup);
      logger.info({ signal }, 'draining');
      runtime.shutdown().then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGHUP', onHangup);
    process.on('SIGTERM', onTerminate);
    process.on('SIGINT', onTerminate);
  });
}
