/**
 * Turns a schema-valid raw config object into a complete ServerConfig: defaults filled in,
 * relative paths resolved from the config file's directory, durations in milliseconds.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_REQUEST_LIMITS } from '../check/index.js';
import { DEFAULT_MEMO_SIZE } from '../lib/index.js';
import type { BundleEndpointOptions, IdentityOptions, IssuerOptions, TrustDomainOptions } from '../identity/index.js';
import { DEFAULT_MAX_BODY_BYTES } from '../policy/index.js';
import { buildDecisionLog, type RawDecisionLog } from './decision-log-config.js';
import { durationMs } from './duration.js';
import type { GrpcConnectionPolicy, GrpcLimits, GrpcTlsConfig, HttpLimits, HttpListenerConfig, ServerConfig, TracingConfig } from './types.js';

/** The raw shape the schema accepts (every key optional). */
export interface RawConfig {
  grpc?: {
    address?: string;
    principalHeader?: string;
    decodeEncodedSlashes?: boolean;
    transport?: 'native' | 'grpc-js';
    keepalive?: { time?: Duration; timeout?: Duration };
    maxConnectionAge?: Duration;
    maxConnectionAgeGrace?: Duration;
    maxConnectionIdle?: Duration;
    limits?: Partial<Omit<GrpcLimits, 'deadlineMs'>> & { deadline?: Duration };
    tls?: { cert?: string; key?: string; clientCa?: string; fromWorkloadApi?: boolean; allowedClientIds?: string[] };
  };
  http?: {
    address?: string;
    pathPrefix?: string;
    maxConnectionIdle?: Duration;
    limits?: Partial<Omit<HttpLimits, 'deadlineMs'>> & { deadline?: Duration };
  };
  admin?: { address?: string; ui?: boolean };
  policies?: string[];
  shadowPolicies?: string[];
  defaultAction?: 'ALLOW' | 'DENY';
  rootNamespace?: string;
  maxBodyBytes?: number;
  identity?: RawIdentity;
  cache?: { decisions?: { enabled?: boolean; max?: number; ttl?: number | string }; principals?: { max?: number } };
  decisionLog?: RawDecisionLog;
  metrics?: { perPolicy?: boolean; flows?: { enabled?: boolean; maxSeries?: number } };
  flowGraph?: { maxEdges?: number; maxPathsPerEdge?: number };
  reload?: { watch?: boolean; debounce?: number | string };
  shutdown?: { drainTimeout?: number | string; notServingDelay?: number | string };
  workers?: number | 'auto';
  tracing?: { otlp: { endpoint: string; headers?: Record<string, string>; timeout?: Duration; caFile?: string }; sampleRate?: number; parentBased?: boolean };
}

type Duration = number | string;

/** An issuer as written in the file: durations instead of `…Ms` numbers. */
export type RawIssuer = Omit<IssuerOptions, 'timeoutMs' | 'cooldownMs' | 'maxAgeMs'> & {
  timeout?: Duration;
  cooldown?: Duration;
  maxAge?: Duration;
};

/** A trust domain as written in the file: a bundle endpoint's durations instead of `…Ms` numbers. */
export type RawTrustDomain = Omit<TrustDomainOptions, 'bundleEndpoint'> & {
  bundleEndpoint?: Omit<BundleEndpointOptions, 'refreshHintMs' | 'timeoutMs'> & { refreshHint?: Duration; timeout?: Duration };
};

/** The `identity:` section as written in the file: IdentityOptions with durations. */
export type RawIdentity = Omit<IdentityOptions, 'trustDomains' | 'workloadApi' | 'issuers' | 'tokenCache' | 'clockToleranceSeconds'> & {
  trustDomains?: Record<string, RawTrustDomain>;
  /** `socket` omitted: SPIFFE_ENDPOINT_SOCKET, as the SPIFFE Workload Endpoint spec says. */
  workloadApi?: { socket?: string };
  issuers?: RawIssuer[];
  tokenCache?: { max?: number; maxTtl?: Duration };
  clockTolerance?: Duration;
};

export const DEFAULT_GRPC_ADDRESS = '0.0.0.0:9191';
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:9901';

export function buildConfig(raw: RawConfig, baseDir: string, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const grpc = raw.grpc ?? {};
  const decisions = raw.cache?.decisions ?? {};
  const config: ServerConfig = {
    baseDir,
    grpc: {
      address: grpc.address ?? DEFAULT_GRPC_ADDRESS,
      principalHeader: grpc.principalHeader ?? 'x-meshwarden-principal',
      decodeEncodedSlashes: grpc.decodeEncodedSlashes ?? false,
      transport: grpc.transport ?? 'native',
      connections: buildConnectionPolicy(grpc),
      limits: buildLimits(grpc.limits ?? {}),
      ...(grpc.tls ? { tls: buildGrpcTls(grpc.tls, raw.identity?.workloadApi, env, path) } : {}),
    },
    http: buildHttpListener(raw.http ?? {}),
    admin: { address: raw.admin?.address ?? DEFAULT_ADMIN_ADDRESS, ui: raw.admin?.ui ?? false },
    policies: (raw.policies ?? []).map(path),
    shadowPolicies: (raw.shadowPolicies ?? []).map(path),
    defaultAction: raw.defaultAction ?? 'DENY',
    rootNamespace: raw.rootNamespace ?? 'istio-system',
    maxBodyBytes: raw.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ...(raw.identity ? { identity: buildIdentity(raw.identity, env) } : {}),
    cache: {
      decisions: {
        enabled: decisions.enabled ?? true,
        max: decisions.max ?? 100_000,
        ttlMs: durationMs(decisions.ttl ?? '60s'),
      },
      principals: { max: raw.cache?.principals?.max ?? DEFAULT_MEMO_SIZE },
    },
    decisionLog: buildDecisionLog(raw.decisionLog ?? {}, path),
    metrics: {
      perPolicy: raw.metrics?.perPolicy ?? false,
      flows: { enabled: raw.metrics?.flows?.enabled ?? false, maxSeries: raw.metrics?.flows?.maxSeries ?? 1000 },
    },
    flowGraph: {
      maxEdges: raw.flowGraph?.maxEdges ?? 10_000,
      maxPathsPerEdge: raw.flowGraph?.maxPathsPerEdge ?? 64,
    },
    reload: { watch: raw.reload?.watch ?? true, debounceMs: durationMs(raw.reload?.debounce ?? '200ms') },
    shutdown: {
      drainMs: durationMs(raw.shutdown?.drainTimeout ?? '10s'),
      notServingDelayMs: durationMs(raw.shutdown?.notServingDelay ?? 0),
    },
    workers: raw.workers === 'auto' ? availableParallelism() : (raw.workers ?? 1),
    ...(raw.tracing ? { tracing: buildTracing(raw.tracing, path) } : {}),
  };
  return deepFreeze(config);
}

/** The listener's bounds, with the Check service's request limits (sized from what Envoy sends). */
export const DEFAULT_GRPC_LIMITS: GrpcLimits = Object.freeze({
  connections: 1024,
  streamsPerConnection: 1000,
  messageBytes: 4 * 1024 * 1024,
  bufferedBytes: 64 * 1024 * 1024,
  deadlineMs: 30_000,
  ...DEFAULT_REQUEST_LIMITS,
});

function buildLimits(raw: NonNullable<NonNullable<RawConfig['grpc']>['limits']>): GrpcLimits {
  const { deadline, ...counts } = raw;
  return {
    ...DEFAULT_GRPC_LIMITS,
    ...counts,
    deadlineMs: deadline === undefined ? DEFAULT_GRPC_LIMITS.deadlineMs : durationMs(deadline),
  };
}

/** The HTTP listener's bounds: the gRPC listener's, where they mean the same. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  connections: DEFAULT_GRPC_LIMITS.connections,
  headers: DEFAULT_REQUEST_LIMITS.headers,
  headerBytes: DEFAULT_REQUEST_LIMITS.headerBytes,
  bodyBytes: DEFAULT_GRPC_LIMITS.messageBytes,
  bufferedBytes: DEFAULT_GRPC_LIMITS.bufferedBytes,
  deadlineMs: DEFAULT_GRPC_LIMITS.deadlineMs,
});

/** Off unless an address is given: nothing listens that the operator did not ask for. */
export const DEFAULT_HTTP_ADDRESS = 'off';

function buildHttpListener(raw: NonNullable<RawConfig['http']>): HttpListenerConfig {
  const { deadline, ...counts } = raw.limits ?? {};
  return {
    address: raw.address ?? DEFAULT_HTTP_ADDRESS,
    pathPrefix: raw.pathPrefix ?? '',
    maxConnectionIdleMs: durationMs(raw.maxConnectionIdle ?? DEFAULT_CONNECTION_POLICY.maxConnectionIdleMs!),
    limits: { ...DEFAULT_HTTP_LIMITS, ...counts, deadlineMs: deadline === undefined ? DEFAULT_HTTP_LIMITS.deadlineMs : durationMs(deadline) },
  };
}

/** gRPC's own defaults for keepalive (2 h, 20 s); an idle connection is closed after 5 minutes; no age. */
export const DEFAULT_CONNECTION_POLICY: GrpcConnectionPolicy = Object.freeze({
  keepaliveTimeMs: 2 * 3_600_000,
  keepaliveTimeoutMs: 20_000,
  maxConnectionIdleMs: 5 * 60_000,
});

function buildConnectionPolicy(grpc: NonNullable<RawConfig['grpc']>): GrpcConnectionPolicy {
  const optional = (key: keyof GrpcConnectionPolicy, value: Duration | undefined) => (value === undefined ? {} : { [key]: durationMs(value) });
  const orDefault = (value: Duration | undefined, fallback: number) => (value === undefined ? fallback : durationMs(value));
  return {
    keepaliveTimeMs: orDefault(grpc.keepalive?.time, DEFAULT_CONNECTION_POLICY.keepaliveTimeMs),
    keepaliveTimeoutMs: orDefault(grpc.keepalive?.timeout, DEFAULT_CONNECTION_POLICY.keepaliveTimeoutMs),
    maxConnectionIdleMs: orDefault(grpc.maxConnectionIdle, DEFAULT_CONNECTION_POLICY.maxConnectionIdleMs!),
    ...optional('maxConnectionAgeMs', grpc.maxConnectionAge),
    ...optional('maxConnectionAgeGraceMs', grpc.maxConnectionAgeGrace),
  };
}

/** The schema already refused files beside fromWorkloadApi, and fromWorkloadApi off without cert and key. */
function buildGrpcTls(
  tls: NonNullable<NonNullable<RawConfig['grpc']>['tls']>,
  workloadApi: RawIdentity['workloadApi'],
  env: NodeJS.ProcessEnv,
  path: (p: string) => string,
): GrpcTlsConfig {
  const allowedClientIds = tls.allowedClientIds ?? [];
  // the listener refuses a missing or malformed address, naming the key and the variable
  if (tls.fromWorkloadApi === true) return { workloadApi: { socket: workloadApi?.socket ?? env['SPIFFE_ENDPOINT_SOCKET'] ?? '' }, allowedClientIds };
  return { cert: path(tls.cert ?? ''), key: path(tls.key ?? ''), ...(tls.clientCa ? { clientCa: path(tls.clientCa) } : {}), allowedClientIds };
}

/**
 * File durations become the units IdentityOptions counts in. Milliseconds and the token
 * cache's seconds are rounded up to whole units, which identity/ requires: "1.5ms" or a
 * "500ms" maxTtl then start the server instead of failing on an option the file never named.
 */
function buildIdentity(raw: RawIdentity, env: NodeJS.ProcessEnv): IdentityOptions {
  const { trustDomains, workloadApi, issuers, tokenCache, clockTolerance, ...rest } = raw;
  return {
    ...rest,
    // every key is optional: an OIDC-only section (a gateway) trusts no SPIFFE trust domain
    trustDomains: buildTrustDomains(trustDomains ?? {}),
    // identity/ refuses a missing or malformed address, naming the key and the variable
    ...(workloadApi ? { workloadApi: { socket: workloadApi.socket ?? env['SPIFFE_ENDPOINT_SOCKET'] ?? '' } } : {}),
    ...(issuers ? { issuers: issuers.map(buildIssuer) } : {}),
    ...(tokenCache
      ? { tokenCache: { max: tokenCache.max ?? 10_000, maxTtlSeconds: Math.ceil(durationMs(tokenCache.maxTtl ?? '5m') / 1000) } }
      : {}),
    ...(clockTolerance !== undefined ? { clockToleranceSeconds: durationMs(clockTolerance) / 1000 } : {}),
  };
}

function buildTrustDomains(domains: Record<string, RawTrustDomain>): IdentityOptions['trustDomains'] {
  const built: Record<string, TrustDomainOptions> = {};
  for (const [name, { bundleEndpoint, ...files }] of Object.entries(domains)) {
    if (bundleEndpoint === undefined) {
      built[name] = files;
      continue;
    }
    const { refreshHint, timeout, ...endpoint } = bundleEndpoint;
    const refresh = refreshHint === undefined ? {} : { refreshHintMs: Math.ceil(durationMs(refreshHint)) };
    built[name] = { ...files, bundleEndpoint: { ...endpoint, ...refresh, ...(timeout === undefined ? {} : { timeoutMs: Math.ceil(durationMs(timeout)) }) } };
  }
  return built;
}

function buildIssuer({ timeout, cooldown, maxAge, ...issuer }: RawIssuer): IssuerOptions {
  return {
    ...issuer,
    ...(timeout !== undefined ? { timeoutMs: Math.ceil(durationMs(timeout)) } : {}),
    ...(cooldown !== undefined ? { cooldownMs: Math.ceil(durationMs(cooldown)) } : {}),
    ...(maxAge !== undefined ? { maxAgeMs: Math.ceil(durationMs(maxAge)) } : {}),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Tracing is on once configured; a trace that starts here is recorded unless sampleRate says less. */
function buildTracing(raw: NonNullable<RawConfig['tracing']>, path: (p: string) => string): TracingConfig {
  const { endpoint, headers, timeout, caFile } = raw.otlp;
  return {
    otlp: { endpoint, headers: headers ?? {}, timeoutMs: durationMs(timeout ?? '10s'), ...(caFile === undefined ? {} : { caFile: path(caFile) }) },
    sampleRate: raw.sampleRate ?? 1,
    parentBased: raw.parentBased ?? true,
  };
}
