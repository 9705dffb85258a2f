// The validators behind the deployment tests fail on broken copies of our own files:
// each case breaks one thing in a temp directory and expects the validator to name it.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvoySchema } from './lib/envoy-schema.js';
import { wiringProblems } from './lib/envoy-wiring.js';
import { k8sProblems } from './lib/k8s-schema.js';
import { kustomize, readYamlDocuments } from './lib/kustomize.js';

let work: string;
let schema: EnvoySchema;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'meshwarden-deploy-'));
  schema = EnvoySchema.load();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes `source` with one edit applied into the temp dir and returns the new path. */
function broken(source: string, from: string | RegExp, to: string): string {
  const text = readFileSync(source, 'utf8');
  const edited = text.replace(from, to);
  expect(edited, `the edit of ${source} must change something`).not.toBe(text);
  const file = path.join(work, `${path.basename(source, '.yaml')}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, edited);
  return file;
}

function envoyProblems(file: string): string[] {
  return schema.check(parse(readFileSync(file, 'utf8'))).map((p) => `${p.path}: ${p.message}`);
}

describe('the Envoy validator', () => {
  it('rejects a misspelt field', () => {
    const file = broken('envoy/sidecar.yaml', 'failure_mode_allow: false', 'failure_mode_alow: false');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('unknown field "failure_mode_alow" in envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'));
  });

  it('rejects a field placed in the wrong message', () => {
    // include_peer_certificate belongs to ExtAuthz, not to its GrpcService.
    const file = broken('envoy/sidecar.yaml', 'envoy_grpc: { cluster_name: meshwarden }', 'envoy_grpc: { cluster_name: meshwarden }\n                        include_peer_certificate: true');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('unknown field "include_peer_certificate" in envoy.config.core.v3.GrpcService'));
  });

  it('rejects a misplaced field in a per-route typed_per_filter_config', () => {
    const file = broken('envoy/sidecar.yaml', /check_settings:\n\s+# The destination[^\n]*\n[^\n]*\n\s+context_extensions:/, 'context_extensions:');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('unknown field "context_extensions" in envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute'));
  });

  it('rejects an enum name Envoy does not have', () => {
    const file = broken('envoy/gateway.yaml', 'transport_api_version: V3', 'transport_api_version: V4');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('"V4" is not a value of envoy.config.core.v3.ApiVersion'));
  });

  it('rejects a duration that is not in ProtoJSON form', () => {
    const file = broken('envoy/gateway.yaml', 'timeout: 0.25s', 'timeout: 250ms');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('expected a duration like "0.25s", got "250ms"'));
  });

  it('rejects two members of one oneof', () => {
    const file = broken('envoy/sidecar-unix.yaml', 'pipe: { path: /var/run/meshwarden/authz.sock }', 'pipe: { path: /var/run/meshwarden/authz.sock }\n                    socket_address: { address: 127.0.0.1, port_value: 9191 }');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('oneof address has several members: socket_address, pipe'));
  });

  it('rejects an Any whose @type is not a loaded Envoy message', () => {
    const file = broken('envoy/sidecar.yaml', 'ext_authz.v3.ExtAuthz\n', 'ext_authz.v3.ExtAuth\n');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('is not a loaded Envoy message'));
  });

  it('rejects a health check without the fields protoc-gen-validate requires', () => {
    const file = broken('envoy/sidecar.yaml', /- timeout: 1s\n\s+interval: 5s/, '- interval: 5s');
    expect(envoyProblems(file)).toContainEqual(expect.stringContaining('envoy.config.core.v3.HealthCheck.timeout is required'));
  });

  it('rejects a route to a cluster that is not defined', () => {
    const file = broken('envoy/gateway.yaml', 'route: { cluster: orders,', 'route: { cluster: order,');
    expect(wiringProblems(parse(readFileSync(file, 'utf8')))).toContainEqual(expect.stringContaining('names cluster "order", which is not defined'));
  });
});

describe('the Kubernetes validator', () => {
  const deployment = (file: string): unknown => readYamlDocuments(file)[0];

  it('rejects a value of the wrong type', () => {
    const file = broken('k8s/base/deployment.yaml', 'replicas: 3', 'replicas: "3"');
    expect(k8sProblems(deployment(file))).toContainEqual(expect.stringContaining('replicas must be integer'));
  });

  it('rejects a misspelt field that the JSON schema alone would let through', () => {
    const file = broken('k8s/base/deployment.yaml', 'readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true');
    expect(k8sProblems(deployment(file))).toContainEqual(expect.stringContaining('securityContext.readOnlyRootFileSystem: unknown field'));
  });

  it('rejects a field placed in the wrong object', () => {
    // runAsNonRoot belongs in a securityContext, not in the container itself.
    const file = broken('k8s/base/deployment.yaml', 'imagePullPolicy: IfNotPresent', 'imagePullPolicy: IfNotPresent\n          runAsNonRoot: true');
    expect(k8sProblems(deployment(file))).toContainEqual(expect.stringContaining('containers[0].runAsNonRoot: unknown field'));
  });

  it('rejects a misspelt field in an Istio AuthorizationPolicy', () => {
    const file = broken('k8s/overlays/istio/authorizationpolicy.yaml', 'action: CUSTOM', 'acton: CUSTOM');
    expect(k8sProblems(deployment(file))).toContainEqual(expect.stringContaining('.spec.acton: unknown field'));
  });

  it('rejects a misspelt field in a ServiceMonitor', () => {
    const file = broken('k8s/base/servicemonitor.yaml', 'scrapeTimeout: 10s', 'scrape_timeout: 10s');
    expect(k8sProblems(deployment(file))).toContainEqual(expect.stringContaining('scrape_timeout: unknown field'));
  });

  it('rejects a kind it has no schema for, rather than passing it', () => {
    expect(k8sProblems({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).toEqual([
      'apps/v1/Deploymnet is not a kind these tests know how to validate',
    ]);
  });
});

describe('the kustomize resolver', () => {
  /** A fresh copy of k8s/ in the temp dir. */
  function copyOfK8s(): string {
    const dir = mkdtempSync(path.join(work, 'k8s-'));
    cpSync('k8s', dir, { recursive: true });
    return dir;
  }

  it('fails when a resource file is missing', () => {
    const dir = copyOfK8s();
    rmSync(path.join(dir, 'base/poddisruptionbudget.yaml'));
    expect(kustomize(path.join(dir, 'overlays/istio')).problems).toContainEqual(expect.stringContaining('resource poddisruptionbudget.yaml does not exist'));
  });

  it('fails when a configMapGenerator file is missing', () => {
    const dir = copyOfK8s();
    rmSync(path.join(dir, 'base/policies/shop-catalog.yaml'));
    expect(kustomize(path.join(dir, 'base')).problems).toContainEqual(expect.stringContaining('generator file shop-catalog.yaml does not exist'));
  });

  it('fails when an overlay is not next to its base', () => {
    const dir = copyOfK8s();
    rmSync(path.join(dir, 'base'), { recursive: true });
    expect(kustomize(path.join(dir, 'overlays/sidecar')).problems).toContainEqual(expect.stringContaining('resource ../../base does not exist'));
  });

  it('fails when a patch targets an object the base does not have', () => {
    const dir = copyOfK8s();
    const patch = path.join(dir, 'overlays/istio/deployment-istio-root-cert.yaml');
    writeFileSync(patch, readFileSync(patch, 'utf8').replace('name: meshwarden\n', 'name: meshwardn\n'));
    expect(kustomize(path.join(dir, 'overlays/istio')).problems).toContainEqual(expect.stringContaining('patch for Deployment/meshwardn matches 0 resources'));
  });

  it('fails when a generator reads a file outside the kustomization root', () => {
    const dir = copyOfK8s();
    const k = path.join(dir, 'overlays/sidecar/kustomization.yaml');
    writeFileSync(k, readFileSync(k, 'utf8').replace('      - envoy.yaml', '      - ../../../envoy/sidecar-unix.yaml'));
    expect(kustomize(path.join(dir, 'overlays/sidecar')).problems).toContainEqual(expect.stringContaining('is outside the kustomization root'));
  });

  it('fails on a kustomization key kustomize does not know', () => {
    const dir = copyOfK8s();
    const k = path.join(dir, 'base/kustomization.yaml');
    writeFileSync(k, readFileSync(k, 'utf8').replace('configMapGenerator:', 'configMapGenerators:'));
    expect(kustomize(path.join(dir, 'base')).problems).toContainEqual(expect.stringContaining('unknown kustomization key configMapGenerators'));
  });

  it.skipIf(!hasKubectl())('agrees with the real kustomize that a missing resource breaks the build', () => {
    const dir = copyOfK8s();
    rmSync(path.join(dir, 'base/poddisruptionbudget.yaml'));
    expect(() => execFileSync('kubectl', ['kustomize', path.join(dir, 'base')], { stdio: 'pipe' })).toThrow();
  });
});

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
