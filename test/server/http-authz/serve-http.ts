/**
 * An in-process HTTP ext_authz listener on loopback for the server tests, over the real Check
 * service: GET /allowed is allowed, anything else denied; every answer told to `observed`.
 */
import type { Authorization } from '../../../src/domain/index.js';
import { createAuthorizationService, type CheckHandler } from '../../../src/check/index.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../../../src/config/index.js';
import { startHttpAuthzServer, type RunningHttpAuthzServer } from '../../../src/server/http-authz/http-authz-server.js';
import { decidedBy } from '../../helpers/decided-by.js';

export const PREFIX = '/authz';

export const byPath: CheckHandler = decidedBy((request) =>
  request.path === '/allowed'
    ? { id: 'a', verdict: 'allow', reason: 'policy_allow', generation: 1 }
    : { id: 'd', verdict: 'deny', reason: 'policy_deny', generation: 1 },
);

export interface Served {
  readonly server: RunningHttpAuthzServer;
  readonly observed: Authorization[];
}

export interface ServeOptions {
  readonly limits?: Partial<HttpLimits>;
  readonly handler?: CheckHandler;
  readonly maxConnectionIdleMs?: number;
  readonly pathPrefix?: string;
  readonly ready?: () => boolean;
}

export async function serveHttp(options: ServeOptions = {}): Promise<Served> {
  const observed: Authorization[] = [];
  const pathPrefix = options.pathPrefix ?? PREFIX;
  const authorization = createAuthorizationService(options.handler ?? byPath, { httpPathPrefix: pathPrefix, observe: (result) => observed.push(result) });
  const server = await startHttpAuthzServer({
    address: '127.0.0.1:0',
    pathPrefix,
    maxConnectionIdleMs: options.maxConnectionIdleMs ?? 5_000,
    limits: { ...DEFAULT_HTTP_LIMITS, ...options.limits },
    authorization,
    ready: options.ready ?? (() => true),
  });
  return { server, observed };
}
