/**
 * The admin endpoints as a function from (method, path) to a reply, apart from node:http so
 * the routing reads in one place. Bodies come from the caller's providers; errors are
 * answered with a bare 500 so nothing internal leaks to whoever can reach the port.
 */

export interface HealthStatus {
  readonly live: boolean;
  readonly ready: boolean;
  /** Why not ready (or not live), e.g. `no policy loaded`. */
  readonly reason?: string;
}

export interface AdminProviders {
  /** Prometheus text exposition (possibly aggregated across workers). */
  readonly metrics: () => Promise<string>;
  readonly contentType: string;
  readonly health: () => HealthStatus;
  /** Generation, hash, files, counts: the caller decides, and must leave secrets out. */
  readonly policyInfo: () => object;
  readonly flows?: () => Promise<object>;
}

export interface AdminReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export async function routeAdminRequest(method: string, url: string, providers: AdminProviders): Promise<AdminReply> {
  const path = url.split('?', 1)[0] ?? '';
  const handler = handlerFor(path, providers);
  if (handler === undefined) return text(404, 'not found\n');
  if (method !== 'GET' && method !== 'HEAD') return { ...text(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } };
  try {
    return await handler();
  } catch {
    return text(500, 'internal error\n');
  }
}

function handlerFor(path: string, providers: AdminProviders): (() => AdminReply | Promise<AdminReply>) | undefined {
  switch (path) {
    case '/metrics':
      return async () => ({ status: 200, contentType: providers.contentType, body: await providers.metrics() });
    case '/healthz':
      return () => liveness(providers.health());
    case '/readyz':
      return () => readiness(providers.health());
    case '/policy':
      return () => json(providers.policyInfo());
    case '/flows': {
      const flows = providers.flows;
      return flows === undefined ? undefined : async () => json(await flows());
    }
    default:
      return undefined;
  }
}

function liveness(health: HealthStatus): AdminReply {
  return health.live ? text(200, 'ok\n') : text(503, `not live: ${health.reason ?? 'unknown'}\n`);
}

function readiness(health: HealthStatus): AdminReply {
  return health.ready ? text(200, 'ready\n') : text(503, `not ready: ${health.reason ?? 'unknown'}\n`);
}

function json(value: object): AdminReply {
  return { status: 200, contentType: JSON_TYPE, body: `${JSON.stringify(value)}\n` };
}

function text(status: number, body: string): AdminReply {
  return { status, contentType: TEXT, body };
}
