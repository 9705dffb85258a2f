/**
 * What this build is: meshwarden's version (package.json's, the one place it is written) and
 * the Node.js running it. `meshwarden --version`, the `listening` line, `/policy` and the
 * `meshwarden_build_info` gauge all say it from here.
 */
import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

let known: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  known ??= Object.freeze({ version: packageVersion(), node: process.version });
  return known;
}

/** package.json sits two levels above both src/telemetry/ and dist/telemetry/ (the image copies it). */
function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Always 1; `max` across workers, which all run the same build. */
export function registerBuildInfo(registry: Registry): void {
  const { version, node } = buildInfo();
  const gauge = new Gauge({
    name: 'meshwarden_build_info',
    help: 'Always 1, labelled with the meshwarden version and the Node.js version running it.',
    labelNames: ['version', 'node'],
    registers: [registry],
    aggregator: 'max',
  });
  gauge.set({ version, node }, 1);
}
