/**
 * The admin HTTP server (metrics, health, policy, flows) on node:http. It listens on
 * loopback by default: these endpoints describe the policy and traffic, not for the mesh.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminServerError } from './errors.js';
import { DEFAULT_ADMIN_ADDRESS, formatListenAddress, parseListenAddress, type ListenAddress } from './listen-address.js';
import { routeAdminRequest, type AdminProviders, type AdminReply } from './routes.js';
import { readLimitedBody } from './ui/request-body.js';
import { addressedByAddress, createAdminUi, type AdminUi, type AdminUiOptions } from './ui/ui-routes.js';
import { listenOn } from '../net/listen.js';

export interface AdminServerOptions extends AdminProviders {
  /** `host:port`, `[v6]:port` or `unix:/path`; default `127.0.0.1:9901`. */
  readonly address?: string;
  /** The live map at `/ui` (admin.ui); absent, `/ui` is 404 like any unknown path. */
  readonly ui?: AdminUiOptions | undefined;
}

export interface AdminServer {
  /** Where it listens, with the actual port when `:0` was asked. */
  readonly address: string;
  /** Stops accepting, ends open connections, and resolves once closed. */
  close(): Promise<void>;
}

// Scrapes and probes are small and quick; slow clients must not hold sockets open.
const HEADERS_TIMEOUT_MS = 5_000;
// How often node:http looks for connections past those timeouts: its default, 30 s, let a head
// sent a byte at a time hold a socket for 35 s instead of 5.
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const configured = options.address ?? DEFAULT_ADMIN_ADDRESS;
  const address = parseListenAddress(configured);
  const ui = options.ui === undefined ? undefined : liveMap(options.ui, configured);
  const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, (request, response) => void serve(request, response, options, ui));
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await listenOrReclaim(server, address, configured);
  return { address: boundAddress(server, address), close: () => closeServer(server) };
}

/** Its files are read now: a package without them fails the start, saying so, not the first visit. */
function liveMap(options: AdminUiOptions, configured: string): AdminUi {
  try {
    return createAdminUi(options);
  } catch (error) {
    const message = `admin.ui: the live map's files cannot be read (${(error as Error).message})`;
    throw new AdminServerError('ERR_ADMIN_UI', configured, message, { cause: error });
  }
}

async function serve(request: IncomingMessage, response: ServerResponse, options: AdminServerOptions, ui: AdminUi | undefined): Promise<void> {
  const reply = await route(request, options, ui);
  response.writeHead(reply.status, {
    'content-type': reply.contentType,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  // node:http leaves the body out of HEAD replies by itself.
  response.end(reply.body);
}

async function route(request: IncomingMessage, options: AdminServerOptions, ui: AdminUi | undefined): Promise<AdminReply> {
  const method = request.method ?? '';
  const url = request.url ?? '/';
  // Prefixed, so a target such as `//host/ui` stays a path and never names a host.
  const parsed = parseTarget(url);
  if (reboundBrowserRead(request, url)) return { status: 403, contentType: 'text/plain; charset=utf-8', body: 'a browser reads this by IP address or localhost only\n' };
  if (ui === undefined || parsed === undefined || !ui.handles(parsed.pathname)) return routeAdminRequest(method, url, options);
  try {
    const contentType = request.headers['content-type'];
    return await ui.route({ method, url: parsed, host: request.headers.host, contentType, body: (limit, timeoutMs) => readLimitedBody(request, limit, timeoutMs) });
  } catch {
    return { status: 500, contentType: 'text/plain; charset=utf-8', body: 'internal error\n' };
  }
}

/**
 * The observed flows and the policy's provenance, read by a web page that pointed a DNS name of
 * its own at this port (DNS rebinding), as the live map's own API is guarded. Browsers mark
 * their requests (Sec-Fetch-Site, Origin) and address them by the page's name; tools
 * (Prometheus, meshwarden graph, curl) send neither mark and are served under any name.
 */
const BROWSER_GUARDED = new Set(['/flows', '/policy']);

function reboundBrowserRead(request: IncomingMessage, url: string): boolean {
  if (!BROWSER_GUARDED.has(url.split('?', 1)[0] ?? '')) return false;
  const fromBrowser = request.headers['sec-fetch-site'] !== undefined || request.headers.origin !== undefined;
  return fromBrowser && !addressedByAddress(request.headers.host);
}

function parseTarget(url: string): URL | undefined {
  if (!url.startsWith('/')) return undefined;
  try {
    return new URL(`http://admin${url}`);
  } catch {
    return undefined;
  }
}

async function listenOrReclaim(server: Server, address: ListenAddress, configured: string): Promise<void> {
  try {
    await listenOn(server, address);
  } catch (error) {
    throw new AdminServerError('ERR_ADMIN_LISTEN', configured, (error as Error).message, { cause: error });
  }
}

function boundAddress(server: Server, address: ListenAddress): string {
  if (address.kind === 'unix') return formatListenAddress(address);
  const info = server.address() as AddressInfo;
  return formatListenAddress({ kind: 'tcp', host: address.host, port: info.port });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeAllConnections();
  });
}
