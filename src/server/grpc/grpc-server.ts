/**
 * Starts the gRPC server Envoy calls: the Authorization service, grpc.health.v1, and any
 * other service the caller registers, on `host:port` or `unix:/path`.
 */
import {
  Server,
  ServerCredentials,
  type ChannelOptions,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { AuthorizationService } from './authorization-service.js';
import { createHealthReporter, type HealthReporter } from './health.js';

export interface GrpcServiceRegistration {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** `host:port` (port 0 picks a free one) or `unix:/path`. */
  readonly address: string;
  /** Default: insecure (a sidecar on loopback or a unix socket). */
  readonly credentials?: ServerCredentials;
  readonly authorization: AuthorizationService;
  readonly services?: readonly GrpcServiceRegistration[];
  readonly channelOptions?: ChannelOptions;
  /** Run on every call of every service, in order, before its handler (e.g. client admission). */
  readonly interceptors?: readonly ServerInterceptor[];
  /** Health status at start; default NOT_SERVING until the lifecycle says policies are loaded. */
  readonly initiallyServing?: boolean;
}

export interface RunningGrpcServer {
  readonly server: Server;
  /** The bound address: `host:port` with the real port, or the `unix:` address as given. */
  readonly address: string;
  /** The bound TCP port; undefined on a unix socket. */
  readonly port: number | undefined;
  readonly health: HealthReporter;
  /** Reports NOT_SERVING, lets calls in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const target = parseAddress(options.address);
  // Channelz (grpc-js' introspection, which nothing here reads) costs a trace and counters per call.
  const server = new Server({ 'grpc.enable_channelz': 0, ...options.channelOptions, interceptors: [...(options.interceptors ?? [])] });
  server.addService(options.authorization.definition, options.authorization.implementation);
  for (const service of options.services ?? []) server.addService(service.definition, service.implementation);
  const health = createHealthReporter(options.initiallyServing === true);
  health.implementation.addToServer(server);
  const port = await bind(server, options.address, options.credentials ?? ServerCredentials.createInsecure());
  const isUnix = target.kind === 'unix';
  return {
    server,
    address: isUnix ? options.address : `${target.host}:${port}`,
    port: isUnix ? undefined : port,
    health,
    close: (graceMs = 5_000) => close(server, health, graceMs),
  };
}

type Target = { kind: 'unix' } | { kind: 'tcp'; host: string };

/** Misused options fail at start-up, with a TypeError. */
function parseAddress(address: string): Target {
  if (address.startsWith('unix:')) {
    if (address.length <= 'unix:'.length) throw new TypeError('grpc address "unix:" has no path');
    return { kind: 'unix' };
  }
  const colon = address.lastIndexOf(':');
  const port = address.slice(colon + 1);
  if (colon <= 0 || !/^\d{1,5}$/.test(port) || Number(port) > 65_535) {
    throw new TypeError(`grpc address must be host:port or unix:/path, got "${address}"`);
  }
  return { kind: 'tcp', host: address.slice(0, colon) };
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}

function close(server: Server, health: HealthReporter, graceMs: number): Promise<void> {
  health.setServing(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
