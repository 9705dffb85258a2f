/**
 * vitest globalSetup: looks for Envoy once per run and hands the answer to the through-Envoy
 * test files (`inject('envoy')`). In CI a missing or broken Envoy fails the run here; on a
 * developer machine the suite is skipped and one line says which and how to install Envoy.
 */
import type { TestProject } from 'vitest/node';
import { ENVOY_INSTALL, ENVOY_SUITE, findEnvoy, isCi } from './envoy-binary.js';

export default function setup(project: TestProject): void {
  const envoy = findEnvoy();
  if (!envoy.found && isCi()) {
    throw new Error(`CI is set and Envoy is not usable (${envoy.problem}); install it with: ${ENVOY_INSTALL}`);
  }
  if (!envoy.found) {
    console.warn(`skipped the through-Envoy suite (${ENVOY_SUITE}): ${envoy.problem}; install Envoy with: ${ENVOY_INSTALL}`);
  }
  project.provide('envoy', envoy);
}
