/**
 * grpc.health.v1 (Check and Watch) for meshwarden. One switch drives both names a prober
 * may ask about: the server as a whole ("") and the Authorization service. Check of an
 * unknown name ends NOT_FOUND; Watch of one streams SERVICE_UNKNOWN, as the protocol says.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { AUTHORIZATION_SERVICE_NAME } from './authorization-definition.js';
import { GrpcStatus } from './grpc-status.js';
import type { GrpcCall } from './grpc-call.js';

export const HEALTH_SERVICE_NAMES = ['', AUTHORIZATION_SERVICE_NAME] as const;
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
export const HEALTH_WATCH_PATH = '/grpc.health.v1.Health/Watch';

const HEALTH_PROTO = fileURLToPath(new URL('../../../proto/grpc/health/v1/health.proto', import.meta.url));
const root = protobuf.loadSync(HEALTH_PROTO);
const HealthCheckRequest = root.lookupType('grpc.health.v1.HealthCheckRequest');
const HealthCheckResponse = root.lookupType('grpc.health.v1.HealthCheckResponse');

const ServingStatus = { SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

export interface HealthReporter {
  /** SERVING once policies are loaded; NOT_SERVING before that and while draining. */
  setServing(serving: boolean): void;
  readonly serving: boolean;
  /** The gRPC methods, for the server's method table. */
  readonly check: (request: Buffer, call: GrpcCall) => void;
  readonly watch: (request: Buffer, call: GrpcCall) => void;
  /** Ends every Watch stream (after it has seen the last status), for shutdown. */
  endWatches(): void;
  /** Watch streams open now. */
  readonly watching: number;
}

export function createHealthReporter(initiallyServing = false): HealthReporter {
  let serving = initiallyServing;
  const watchers = new Set<{ readonly call: GrpcCall; readonly known: boolean }>();
  const statusOf = (known: boolean) => (!known ? ServingStatus.SERVICE_UNKNOWN : serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  return {
    get serving() {
      return serving;
    },
    get watching() {
      return watchers.size;
    },
    setServing(next) {
      if (next === serving) return;
      serving = next;
      for (const { call, known } of watchers) if (known) call.send(encodeStatus(statusOf(true)));
    },
    check(request, call) {
      const known = isKnown(serviceOf(request));
      if (known === undefined) call.fail(GrpcStatus.INTERNAL, 'the request is not a HealthCheckRequest');
      else if (!known) call.fail(GrpcStatus.NOT_FOUND, 'unknown service');
      else call.reply(encodeStatus(statusOf(true)));
    },
    watch(request, call) {
      const known = isKnown(serviceOf(request));
      if (known === undefined) return call.fail(GrpcStatus.INTERNAL, 'the request is not a HealthCheckRequest');
      const watcher = { call, known };
      watchers.add(watcher);
      call.onClose(() => watchers.delete(watcher));
      call.send(encodeStatus(statusOf(known)));
    },
    endWatches() {
      for (const watcher of watchers) watcher.call.fail(GrpcStatus.UNAVAILABLE, 'the server is shutting down');
      watchers.clear();
    },
  };
}

/** The service name asked about, or undefined when the bytes are not a HealthCheckRequest. */
function serviceOf(request: Buffer): string | undefined {
  try {
    return (HealthCheckRequest.decode(request) as unknown as { service: string }).service;
  } catch {
    return undefined;
  }
}

function isKnown(service: string | undefined): boolean | undefined {
  return service === undefined ? undefined : (HEALTH_SERVICE_NAMES as readonly string[]).includes(service);
}

function encodeStatus(status: ServingStatus): Uint8Array {
  return HealthCheckResponse.encode({ status }).finish();
}
