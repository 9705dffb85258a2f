import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // finds Envoy for test/through-envoy: skips it with one line when absent, fails the run under CI
    globalSetup: ['test/helpers/envoy/global-setup.ts'],
  },
});
