/**
 * A unix socket file left behind by a crashed process blocks `listen` with EADDRINUSE.
 * It is removed only if it is a socket and nothing answers on it: a live server's socket,
 * or any other kind of file, is never touched.
 */
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';

/** True when `path` was a dead socket and has been removed. */
export async function removeStaleSocket(path: string): Promise<boolean> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined || !stats.isSocket()) return false;
  if (await answers(path)) return false;
  await unlink(path);
  return true;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'ECONNREFUSED'));
  });
}
