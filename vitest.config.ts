import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default (CPUs - 1) runs the files one by one on a 2-CPU machine, as CI's is; most
    // of the suite waits on real processes (Envoy, servers, Prometheus, Chromium), not the CPU,
    // so two at a time there takes the suite from about 630 s to 400 s.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // finds Envoy for test/through-envoy: skips it with one line when absent, fails the run under CI
    globalSetup: ['test/helpers/envoy/global-setup.ts'],
  },
});
