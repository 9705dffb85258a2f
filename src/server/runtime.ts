/**
 * One serving process: identity, policy snapshots, the authz pipeline, the gRPC listener and
 * the admin server, wired together. Readiness (admin `/readyz` and gRPC Health) is true
 * only while a snapshot is in service, the trust bundles are loaded, and we are not draining.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Authorizer, DecisionCache, createShadowObserver } from '../authz/index.js';
import { engineOptionsOf, type ServerConfig } from '../config/index.js';
import { createIdentityResolver, type IdentityResolver } from '../identity/index.js';
import { BoundedMemo } from '../lib/index.js';
import { DestinationResolver } from '../policy/index.js';
import { buildInfo } from '../telemetry/index.js';
import { startAdminServer, type AdminServer, type UiAnalysis } from './admin/index.js';
import { createAuthorizationService, type AuthorizationService } from '../check/index.js';
import { startGrpcServer, type RunningGrpcServer } from './grpc/index.js';
import { grpcListenerSecurity, type ListenerSecurity } from './grpc-credentials.js';
import { startHttpAuthzServer, type RunningHttpAuthzServer } from './http-authz/http-authz-server.js';
import type { Logger } from './logger.js';
import { PolicyReloader, type ReloadResult } from './policy-reloader.js';
import { logTrustMaterial, notReadyReason, trustMaterialInfo } from './readiness.js';
import { createTelemetry, type Telemetry } from './telemetry-wiring.js';

export interface Runtime {
  readonly grpcAddress: string;
  /** The HTTP ext_authz listener's address; undefined when `http.address` is off. */
  readonly httpAddress: string | undefined;
  readonly adminAddress: string | undefined;
  readonly policies: PolicyReloader;
  readonly telemetry: Telemetry;
  /** Reload policies (and shadow policies) and trust material now, as on SIGHUP. */
  reload(): Promise<void>;
  /** Readiness false at once, in-flight Checks finish within the drain time, then close. */
  shutdown(): Promise<void>;
  /** What `/readyz` and gRPC Health say now. */
  ready(): boolean;
  /** Why not ready, in the words `/readyz` uses (meaningful only while `ready()` is false). */
  whyNotReady(): string;
}

export interface RuntimeOptions {
  /** Told whenever readiness or the snapshot in service may have changed (a cluster worker reports it). */
  readonly onChange?: () => void;
  /** The live map's what-if and reach (admin.ui), computed by tools server/ does not import. */
  readonly analysis?: UiAnalysis;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** A first load that failed: there is no snapshot to serve, so the process does not start. */
export function unloadable(what: string, errors: readonly string[]): StartupError {
  return new StartupError(`${what} do not load, so there is no snapshot to serve; not starting (exit 1):\n  ${errors.join('\n  ')}`);
}

/** The parts of one serving process, in the order they start. */
interface Parts {
  readonly telemetry: Telemetry;
  readonly identity: IdentityResolver;
  readonly policies: PolicyReloader;
  readonly shadow: PolicyReloader | undefined;
  readonly security: ListenerSecurity;
  readonly grpc: RunningGrpcServer;
  readonly http: RunningHttpAuthzServer | undefined;
  readonly admin: AdminServer | undefined;
}

/** Starts the parts in order; a part that fails to start fails the start (policies: a StartupError). */
export async function startRuntime(config: ServerConfig, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const telemetry = await createTelemetry(config, logger);
  const identity = await startIdentity(config, logger, telemetry);
  const policies = await startPolicies(config, 'policies', config.policies, (result, inService) => {
    reported(result, 'policies', inService, logger, telemetry);
    options.onChange?.();
  });
  const shadow = config.shadowPolicies.length === 0
    ? undefined
    : await startPolicies(config, 'shadow policies', config.shadowPolicies, (result, inService) => reported(result, 'shadow policies', inService, logger));
  const service = createCheckService(config, logger, { telemetry, identity, policies, shadow });
  const { grpc, security } = await startListener(config, logger, service);
  telemetry.metrics.attach({ grpcListener: () => grpc.load(), ...(security.svidStats ? { listenerSvid: security.svidStats } : {}) });
  const state = { draining: false };
  const listenerWaits = () => security.notReadyReason?.();
  const ready = () => !state.draining && policies.current !== undefined && identity.ready && listenerWaits() === undefined;
  telemetry.metrics.attach({ ready });
  const http = await startHttpListener(config, service, ready, { grpc, security });
  if (http) telemetry.metrics.attach({ httpListener: () => http.load() });
  const whyNotReady = () => notReadyReason({ draining: state.draining, policies, identity, listener: listenerWaits() });
  const admin = await startAdmin(config, telemetry, { policies, identity }, { ready, whyNotReady, analysis: options.analysis })?.catch(async (error: unknown) => {
    await letListenersGo({ grpc, http, security }); // they would keep a process that failed to start alive
    throw error;
  });
  const parts: Parts = { telemetry, identity, policies, shadow, security, grpc, http, admin };
  const updateHealth = reportHealth(parts, ready, options);
  if (config.reload.watch) {
    policies.watch();
    shadow?.watch();
  }
  return {
    grpcAddress: grpc.address,
    httpAddress: http?.address,
    adminAddress: admin?.address,
    policies,
    telemetry,
    ready,
    whyNotReady,
    reload: () => reloadAll(parts, updateHealth),
    shutdown: () => {
      state.draining = true;
      return shutDown(config, parts, updateHealth);
    },
  };
}

async function startIdentity(config: ServerConfig, logger: Logger, telemetry: Telemetry): Promise<IdentityResolver> {
  const tracing = telemetry.tracing;
  const identity = await createIdentityResolver(config.identity, {
    baseDir: config.baseDir,
    principalMemoSize: config.cache.principals.max,
    ...(tracing ? { tracing } : {}),
  });
  telemetry.metrics.attach({ identity: () => identity.stats });
  logTrustMaterial(identity, logger);
  return identity;
}

/** A reloader whose first load must succeed: a set of policies that does not load stops the start. */
async function startPolicies(
  config: ServerConfig,
  what: string,
  paths: readonly string[],
  onReload: (result: ReloadResult, inService: boolean) => void,
): Promise<PolicyReloader> {
  const engine = engineOptionsOf(config);
  const reloader: PolicyReloader = new PolicyReloader({
    paths,
    engine,
    debounceMs: config.reload.debounceMs,
    onReload: (result) => onReload(result, reloader.current !== undefined),
  });
  const first = await reloader.reload();
  if (!first.ok) throw unloadable(what, first.errors);
  return reloader;
}

type PipelineParts = Pick<Parts, 'telemetry' | 'identity' | 'policies' | 'shadow'>;

/** The Check service over the pipeline: identity, decision cache, tree, shadow; every answer told to telemetry. */
function createCheckService(config: ServerConfig, logger: Logger, parts: PipelineParts): AuthorizationService {
  const authorizer = createAuthorizer(config, logger, parts);
  const recorder = parts.telemetry.recorder;
  return createAuthorizationService((request) => authorizer.authorize(request), {
    principalHeader: config.grpc.principalHeader,
    decodeEncodedSlashes: config.grpc.decodeEncodedSlashes,
    httpPathPrefix: config.http.pathPrefix,
    requestLimits: config.grpc.limits,
    onError: (error) => logger.error({ err: error }, 'internal error answered as deny'),
    observe: (result, request, durationSeconds) => recorder.record(result, request, durationSeconds),
    ...(parts.telemetry.tracing ? { tracing: parts.telemetry.tracing } : {}),
  });
}

function createAuthorizer(config: ServerConfig, logger: Logger, { telemetry, identity, policies, shadow }: PipelineParts): Authorizer {
  const cache = config.cache.decisions.enabled ? new DecisionCache(config.cache.decisions) : undefined;
  if (cache) telemetry.metrics.attach({ decisionCache: () => cache.stats });
  return new Authorizer({
    snapshots: policies,
    identity,
    destinations: new DestinationResolver(new BoundedMemo(config.cache.principals.max)),
    ...(cache ? { cache } : {}),
    ...(shadow ? { observe: createShadowObserver(shadow, (d) => telemetry.shadowDisagreed(d)) } : {}),
    onObserveError: (error) => logger.error({ err: error }, 'shadow evaluation failed; the enforced decision stands'),
  });
}

/** The gRPC listener and its TLS material; material already watched is let go when the listener fails to start. */
async function startListener(config: ServerConfig, logger: Logger, authorization: AuthorizationService): Promise<Pick<Parts, 'grpc' | 'security'>> {
  const security = await listenerSecurity(config, logger);
  const grpc = await startGrpcServer({
    address: config.grpc.address,
    transport: config.grpc.transport,
    limits: config.grpc.limits,
    connections: config.grpc.connections,
    authorization,
    ...security,
  }).catch((error: unknown) => {
    security.tls?.close(); // its watches would keep a process that failed to start alive
    throw error;
  });
  return { grpc, security };
}

/** The HTTP ext_authz listener, when asked for; if it cannot listen, the gRPC listener already up is let go too. */
async function startHttpListener(
  config: ServerConfig,
  authorization: AuthorizationService,
  ready: () => boolean,
  started: Pick<Parts, 'grpc' | 'security'>,
): Promise<RunningHttpAuthzServer | undefined> {
  const { address, pathPrefix, maxConnectionIdleMs, limits } = config.http;
  if (address === 'off') return undefined;
  return startHttpAuthzServer({ address, pathPrefix, maxConnectionIdleMs, limits, authorization, ready }).catch(async (error: unknown) => {
    await started.grpc.close(0);
    started.security.tls?.close();
    throw error;
  });
}

function listenerSecurity(config: ServerConfig, logger: Logger): Promise<ListenerSecurity> {
  return grpcListenerSecurity(config.grpc.tls, {
    onRefused: (clientId) => logger.warn({ clientId: clientId ?? 'none' }, 'gRPC client refused: not in grpc.tls.allowedClientIds'),
    onRotated: ({ paths, certificate }) => logger.info({ ...paths, certificate }, 'gRPC listener TLS material rotated'),
    onRejected: (error) => logger.error({ code: error.code, path: error.path, cause: error.message }, 'gRPC listener TLS material rejected; keeping the material in service'),
    debounceMs: config.reload.debounceMs,
    svid: {
      onRotated: ({ socket, spiffeId, certificate, first }) =>
        logger.info({ socket, spiffeId, certificate }, first ? 'gRPC listener X.509-SVID from the Workload API in service' : 'gRPC listener X.509-SVID rotated'),
      onRejected: ({ code, cause, keptLastGood, reason }) =>
        logger.error({ code, cause, keptLastGood }, `gRPC listener X.509-SVID: ${reason}; ${keptLastGood ? 'keeping the SVID in service' : 'no SVID yet: the listener refuses connections and the server is not ready'}`),
    },
  });
}

/** Says readiness on gRPC Health now and whenever trust material reloads; returns the update, for reload and shutdown. */
function reportHealth({ grpc, identity, security }: Parts, ready: () => boolean, options: RuntimeOptions): () => void {
  const updateHealth = () => {
    grpc.health.setServing(ready());
    options.onChange?.();
  };
  updateHealth();
  identity.on('reload', updateHealth);
  security.tls?.onChange(updateHealth); // the first SVID makes the listener ready
  return updateHealth;
}

async function reloadAll({ policies, shadow, identity, security }: Parts, updateHealth: () => void): Promise<void> {
  await Promise.all([policies.reload(), shadow?.reload(), identity.reload(), security.tls?.reload()]);
  updateHealth();
}

/** Not ready at once; still answering while balancers move away; then each part stops, the listener draining in-flight Checks. */
async function shutDown(config: ServerConfig, parts: Parts, updateHealth: () => void): Promise<void> {
  updateHealth();
  if (config.shutdown.notServingDelayMs > 0) await delay(config.shutdown.notServingDelayMs);
  parts.policies.close();
  parts.shadow?.close();
  await Promise.all([parts.grpc.close(config.shutdown.drainMs), parts.http?.close(config.shutdown.drainMs)]);
  parts.security.tls?.close();
  await parts.admin?.close();
  parts.identity.close();
  await parts.telemetry.close();
}

/** The listeners already up when a later part fails to start: closed at once, nothing in flight yet. */
async function letListenersGo({ grpc, http, security }: Pick<Parts, 'grpc' | 'http' | 'security'>): Promise<void> {
  await Promise.all([grpc.close(0), http?.close(0)]);
  security.tls?.close();
}

function startAdmin(
  config: ServerConfig,
  telemetry: Telemetry,
  { policies, identity }: Pick<Parts, 'policies' | 'identity'>,
  { ready, whyNotReady, analysis }: { ready: () => boolean; whyNotReady: () => string; analysis: UiAnalysis | undefined },
): Promise<AdminServer> | undefined {
  if (config.admin.address === 'off') return undefined;
  return startAdminServer({
    ui: config.admin.ui ? { snapshot: () => policies.current, analysis } : undefined,
    address: config.admin.address,
    metrics: () => telemetry.metrics.exposition(),
    contentType: telemetry.metrics.contentType,
    health: () => (ready() ? { live: true, ready: true } : { live: true, ready: false, reason: whyNotReady() }),
    policyInfo: () => ({ ...policyInfo(policies), trustMaterial: trustMaterialInfo(identity) }),
    flows: async () => telemetry.flows.toJSON(),
  });
}

/** What `/policy` shows: provenance and counts, never policy contents or key material. */
export function policyInfo(policies: PolicyReloader): object {
  const snapshot = policies.current;
  const { version } = buildInfo();
  if (snapshot === undefined) return { version, loaded: false };
  return {
    version,
    loaded: true,
    generation: snapshot.generation,
    hash: snapshot.hash,
    loadedAt: new Date(snapshot.loadedAt).toISOString(),
    policies: snapshot.policyCount,
    rules: snapshot.ruleCount,
    files: snapshot.files,
    defaultAction: snapshot.options.defaultAction,
  };
}

/** `inService`: whether a snapshot serves; at start none does, and a failure stops the start. */
function reported(result: ReloadResult, what: string, inService: boolean, logger: Logger, telemetry?: Telemetry): void {
  if (result.ok) {
    const { generation, hash, ruleCount } = result.snapshot;
    telemetry?.metrics.policyReloaded({ generation, hash, rules: ruleCount });
    for (const warning of result.warnings) logger.warn(`${what}: ${warning}`);
    logger.info({ generation, hash, rules: ruleCount }, `${what} loaded`);
  } else {
    telemetry?.metrics.policyReloadFailed();
    const outcome = inService ? 'keeping the snapshot in service' : 'no snapshot in service yet: not starting (exit 1)';
    logger.error({ errors: result.errors }, `${what} failed to load; ${outcome}`);
  }
}

