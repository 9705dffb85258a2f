/**
 * `describe` for suites that need a real Envoy: skipped when global setup found none (it has
 * already said so, once), and never skipped under CI, where global setup fails the run first.
 */
import { describe, inject } from 'vitest';

export function envoyBin(): string | undefined {
  const envoy = inject('envoy');
  return envoy.found ? envoy.bin : undefined;
}

export const describeWithEnvoy = describe.skipIf(envoyBin() === undefined);
