/**
 * Every worker must bind the same gRPC address, so `host:0` is turned into a concrete port
 * before the first fork: the primary binds `host:0`, reads the port the kernel chose, closes,
 * and hands `host:port` to every worker (and to every replacement).
 *
 * Why not let node:cluster share `listen(0)`: it does give all workers one random port, but
 * only while one of them holds it; if every worker crashed at once the replacements would
 * get a new port that nobody (Envoy, the "listening" line) knows. Why not let worker 1 bind
 * and pass its port on: the cluster primary keys its shared handles by the requested
 * address, so `host:0` and `host:PORT` would be two handles and the second fails with
 * EADDRINUSE. The cost of our way is a short window in which another process could take
 * the port; the fork then fails to bind and start-up fails loudly, never silently.
 */
import { createServer, type AddressInfo } from 'node:net';

/** `host:0` → `host:PORT` with a port free now; any other address (unix:, a fixed port) as is. */
export async function resolveSharedAddress(address: string): Promise<string> {
  const match = /^(.+):0$/.exec(address);
  if (match === null || address.startsWith('unix:')) return address;
  const host = match[1] as string;
  const port = await freePort(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
  return `${host}:${port}`;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
