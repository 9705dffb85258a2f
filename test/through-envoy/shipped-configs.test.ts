/**
 * The Envoy bootstraps we ship (envoy/*.yaml) start: each passes `envoy --mode validate`, which
 * builds every listener, filter, cluster and TLS context as a real start would, without binding
 * or connecting. Certificate files are pointed at test files (a temp copy of each config);
 * nothing else is changed.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TestPki } from '../identity/helpers/pki.js';
import { describeWithEnvoy, envoyBin } from '../helpers/envoy/describe-with-envoy.js';
import { REPO_ROOT, tempDir } from '../helpers/server-process.js';

const run = promisify(execFile);
const SHIPPED = readdirSync(join(REPO_ROOT, 'envoy')).filter((name) => name.endsWith('.yaml')).sort();

/** Where the shipped files expect certificates, and the test file that stands in for each. */
interface Files {
  readonly spiffeDir: string;
  readonly tlsDir: string;
  readonly caBundle: string;
}

function testCopy(name: string, files: Files): string {
  let text = readFileSync(join(REPO_ROOT, 'envoy', name), 'utf8');
  const substitutions: [string, string][] = [
    ['/var/run/secrets/spiffe', files.spiffeDir],
    ['/etc/envoy/tls', files.tlsDir],
    ['/etc/ssl/certs/ca-certificates.crt', files.caBundle],
  ];
  for (const [from, to] of substitutions) text = text.replaceAll(from, to);
  const path = join(tempDir('meshwarden-envoy-validate-'), name);
  writeFileSync(path, text);
  return path;
}

/** `5s` / `0.25s` (Envoy's and meshwarden's way of writing these) in seconds. */
function seconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(duration);
  if (!match) throw new Error(`not a duration in seconds: ${duration}`);
  return Number(match[1]);
}

describeWithEnvoy('the shipped Envoy configs', () => {
  let files: Files;

  beforeAll(() => {
    const pki = new TestPki();
    const root = pki.root('prod-root', 'prod.example');
    pki.leaf('svid', root, { uris: ['spiffe://prod.example/ns/prod/sa/payments'] });
    pki.leaf('tls', root, { extra: ['subjectAltName=DNS:api.example.com'] });
    const spiffeDir = tempDir('meshwarden-spiffe-');
    copyFileSync(join(pki.dir, 'svid.pem'), join(spiffeDir, 'svid.pem'));
    copyFileSync(join(pki.dir, 'svid.key'), join(spiffeDir, 'svid_key.pem'));
    copyFileSync(root.certPath, join(spiffeDir, 'svid_bundle.pem'));
    const tlsDir = tempDir('meshwarden-tls-');
    copyFileSync(join(pki.dir, 'tls.pem'), join(tlsDir, 'tls.crt'));
    copyFileSync(join(pki.dir, 'tls.key'), join(tlsDir, 'tls.key'));
    files = { spiffeDir, tlsDir, caBundle: root.certPath };
  });

  it('are the ones the docs describe', () => {
    expect(SHIPPED).toEqual(['gateway.yaml', 'sidecar-http.yaml', 'sidecar-unix.yaml', 'sidecar.yaml', 'tcp-redis.yaml']);
  });

  // rolling-replacement.test.ts drains replicas behind Envoy; with Envoy's default (60 s), one draining in
  // Envoy's first minute is still sent Checks, and callers get 503s
  it.each(SHIPPED)('envoy/%s health-checks meshwarden at its interval from the start, not after a minute', (name) => {
    const config = parse(readFileSync(join(REPO_ROOT, 'envoy', name), 'utf8')) as { static_resources: { clusters: Record<string, unknown>[] } };
    const meshwarden = config.static_resources.clusters.find((c) => c['name'] === 'meshwarden');
    const [check] = meshwarden?.['health_checks'] as { interval: string; no_traffic_interval?: string }[];
    expect(check?.no_traffic_interval).toBe(check?.interval);
  });

  // measured behind two replicas: with no delay, about half the Checks failed while one of them went
  it.each(['sidecar.yaml', 'sidecar-http.yaml', 'gateway.yaml'])('envoy/meshwarden/%s keeps answering while NOT_SERVING until Envoy\'s health checks have noticed', (name) => {
    const envoy = parse(readFileSync(join(REPO_ROOT, 'envoy', name), 'utf8')) as { static_resources: { clusters: Record<string, unknown>[] } };
    const meshwarden = envoy.static_resources.clusters.find((c) => c['name'] === 'meshwarden');
    const [check] = meshwarden?.['health_checks'] as { interval: string; unhealthy_threshold: number }[];
    const noticedMs = seconds(check!.interval) * 1000 * check!.unhealthy_threshold;
    const config = parse(readFileSync(join(REPO_ROOT, 'envoy', 'meshwarden', name), 'utf8')) as { shutdown?: { notServingDelay?: string } };
    expect(seconds(config.shutdown?.notServingDelay ?? '0s') * 1000).toBeGreaterThan(noticedMs);
  });

  it.each(SHIPPED)('envoy/%s passes envoy --mode validate', async (name) => {
    const config = testCopy(name, files);
    const result = await run(envoyBin()!, ['--mode', 'validate', '-c', config, '--log-level', 'error'], { timeout: 20_000 })
      .then(({ stdout, stderr }) => ({ ok: true, output: stdout + stderr }), (error: { stdout?: string; stderr?: string; message: string }) => ({
        ok: false,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}` || error.message,
      }));
    expect(result.output).toContain('configuration');
    expect(result, result.output).toMatchObject({ ok: true });
  });
});
