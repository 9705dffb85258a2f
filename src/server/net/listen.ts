/**
 * Binds a server to a ListenAddress, reclaiming a unix socket file that a crashed process
 * left behind (only a socket nobody answers on).
 */
import type { AddressInfo, Server } from 'node:net';
import type { ListenAddress } from './listen-address.js';
import { removeStaleSocket } from './stale-socket.js';

/** Resolves with the bound TCP port (undefined on a unix socket); rejects with the system error. */
export async function listenOn(server: Server, address: ListenAddress): Promise<number | undefined> {
  try {
    await listenOnce(server, address);
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    if (!inUse || address.kind !== 'unix' || !(await removeStaleSocket(address.path))) throw error;
    await listenOnce(server, address);
  }
  return address.kind === 'unix' ? undefined : (server.address() as AddressInfo).port;
}

function listenOnce(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, ready);
    else server.listen(address.port, address.host, ready);
  });
}
