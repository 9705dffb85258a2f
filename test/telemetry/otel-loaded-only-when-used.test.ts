/**
 * The OpenTelemetry SDK (tracer provider, OTLP exporters, resources) is loaded only when tracing
 * or an OTLP decision-log sink is configured: off, a server and each of its workers start
 * without it (about 15-30 MB and 100-150 ms each). Read from the CommonJS module cache of a
 * fresh process running the built server (dist/), since the SDK's packages load as CommonJS.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server-process.js';

const SCRIPT = `
import { createRequire } from 'node:module';
import pino from 'pino';
const { buildConfig } = await import(${JSON.stringify(join(REPO_ROOT, 'dist/config/build.js'))});
const { startRuntime } = await import(${JSON.stringify(join(REPO_ROOT, 'dist/server/runtime.js'))});
const raw = JSON.parse(process.argv[1]);
const runtime = await startRuntime(buildConfig({ ...raw, policies: ['examples/policies'], grpc: { address: '127.0.0.1:0' }, admin: { address: 'off' }, reload: { watch: false } }, process.cwd()), pino({ enabled: false }));
const cache = Object.keys(createRequire(import.meta.url).cache);
const sdk = new Set(cache.map((file) => file.match(/node_modules\\/@opentelemetry\\/(sdk-[a-z-]+|exporter-[a-z-]+|resources)\\//)?.[1]).filter(Boolean));
await runtime.shutdown();
process.stdout.write(JSON.stringify([...sdk].sort()));
`;

function sdkPackagesLoaded(raw: object): string[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT, JSON.stringify(raw)], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
  return JSON.parse(out) as string[];
}

describe('the OpenTelemetry SDK is loaded only when it is used', () => {
  it('is not loaded by a server with tracing off and no OTLP sink', () => {
    expect(sdkPackagesLoaded({ decisionLog: { output: 'off' } })).toEqual([]);
  });

  it('is loaded, tracer and OTLP trace exporter, by a server with tracing on', () => {
    const loaded = sdkPackagesLoaded({ tracing: { otlp: { endpoint: 'http://127.0.0.1:9/v1/traces' }, sampleRate: 0.01 } });
    expect(loaded).toEqual(expect.arrayContaining(['exporter-trace-otlp-http', 'sdk-trace-base']));
  });
});
