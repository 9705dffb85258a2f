/**
 * vitest global setup: end-to-end tests run the built CLI as a real child process, so the
 * build must match the sources. `npm test` builds in `pretest`; a direct `vitest run`
 * builds here.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.env.MESHWARDEN_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
