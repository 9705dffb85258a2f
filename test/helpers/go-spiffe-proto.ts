/**
 * Where the official SPIFFE Workload API proto is on this machine: go-spiffe's module in the Go
 * module cache, which installing SPIRE (`.ci/run`) brings. No npm package ships it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The go-spiffe release whose workload.proto is vendored in proto/spiffe/workload/. */
export const GO_SPIFFE_VERSION = 'v2.6.0';

/** The official workload.proto of GO_SPIFFE_VERSION, or undefined where Go or the module is missing. */
export function officialWorkloadProto(): string | undefined {
  const cache = goModCache();
  if (cache === undefined) return undefined;
  const module = path.join(cache, 'github.com', 'spiffe', 'go-spiffe');
  if (!existsSync(module) || !readdirSync(module).includes(`v2@${GO_SPIFFE_VERSION}`)) return undefined;
  const file = path.join(module, `v2@${GO_SPIFFE_VERSION}`, 'proto', 'spiffe', 'workload', 'workload.proto');
  return existsSync(file) ? file : undefined;
}

function goModCache(): string | undefined {
  try {
    return execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}
