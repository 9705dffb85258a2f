/**
 * `describe` for suites that need a real Envoy: skipped when global setup found none (it has
 * already said so, once), and never skipped under CI, where global setup fails the run first.
 */
import { describe, inject } from 'vitest';
import { findEnvoy, type EnvoyBinary } from './envoy-binary.js';

let found: EnvoyBinary | undefined;

export function envoyBin(): string | undefined {
  // global-setup.ts provides it; a run configured without that setup looks for itself
  found ??= inject('envoy') ?? findEnvoy();
  return found.found ? found.bin : undefined;
}

export const describeWithEnvoy = describe.skipIf(envoyBin() === undefined);
