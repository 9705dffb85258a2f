/**
 * grpc.health.v1 for meshwarden, served by the gRPC project's `grpc-health-check`. One
 * switch drives both names a prober may ask about: the server as a whole ("") and the
 * Authorization service.
 */
import { HealthImplementation } from 'grpc-health-check';
import { AUTHORIZATION_SERVICE_NAME } from './authorization-definition.js';

export const HEALTH_SERVICE_NAMES = ['', AUTHORIZATION_SERVICE_NAME] as const;

export interface HealthReporter {
  /** SERVING once policies are loaded; NOT_SERVING before that and while draining. */
  setServing(serving: boolean): void;
  readonly serving: boolean;
  readonly implementation: HealthImplementation;
}

export function createHealthReporter(initiallyServing = false): HealthReporter {
  const status = (serving: boolean) => (serving ? 'SERVING' : 'NOT_SERVING');
  const implementation = new HealthImplementation(
    Object.fromEntries(HEALTH_SERVICE_NAMES.map((name) => [name, status(initiallyServing)])),
  );
  let serving = initiallyServing;
  return {
    implementation,
    get serving() {
      return serving;
    },
    setServing(next: boolean) {
      serving = next;
      for (const name of HEALTH_SERVICE_NAMES) implementation.setStatus(name, status(next));
    },
  };
}
