// Every manifest under k8s/ is valid for the API it names, strictly (no unknown fields),
// and every kustomization builds; the built base says what a production install needs.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { isKnownKind, k8sProblems } from './lib/k8s-schema.js';
import { kustomize, type Resource } from './lib/kustomize.js';

/** Files under k8s/ that are not Kubernetes objects, each for a stated reason. */
const NOT_MANIFESTS = new Set([
  'k8s/base/config.yaml', // meshwarden's own configuration, packed into a ConfigMap
  'k8s/overlays/sidecar/config.yaml',
  'k8s/overlays/spire/config.yaml',
  'k8s/overlays/sidecar/envoy.yaml', // Envoy bootstrap; test/deploy/envoy-config.test.ts
  'k8s/overlays/istio/istiod-values.yaml', // Helm values for istiod
]);
const OVERLAYS = ['k8s/overlays/istio', 'k8s/overlays/sidecar', 'k8s/overlays/spire'];
const KUSTOMIZATIONS = ['k8s/base', ...OVERLAYS, 'k8s/monitoring'];
/** ConfigMaps an operator or Istio provides; the README, Deployment says how. */
const PROVIDED_CONFIGMAPS = new Set(['meshwarden-trust-bundle', 'istio-ca-root-cert']);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return name.endsWith('.yaml') ? [full] : [];
  });
}

/** Patch files are partial objects: they are validated merged, in the built output. */
const PATCH_FILES = new Set(
  KUSTOMIZATIONS.flatMap((dir) => {
    const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Resource;
    return ((k['patches'] as Resource[] | undefined) ?? []).filter((p) => p['path']).map((p) => path.join(dir, p['path']));
  }),
);

const manifestDocs = yamlFiles('k8s')
  .filter((f) => !NOT_MANIFESTS.has(f) && !PATCH_FILES.has(f) && path.basename(f) !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d, i) => ({ file, i, doc: d.toJS() as Resource })))
  .filter(({ doc }) => doc['apiVersion'] !== 'meshwarden.io/v1');

function kind(resources: Resource[], k: string, name?: string): Resource {
  const found = resources.filter((r) => r['kind'] === k && (name === undefined || r['metadata'].name === name));
  expect(found, `${k} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

describe('every manifest file', () => {
  it('is a kind with a schema here (so none goes unvalidated)', () => {
    expect(manifestDocs.filter(({ doc }) => !isKnownKind(doc)).map(({ file }) => file)).toEqual([]);
  });

  it.each(manifestDocs.map((m) => [`${m.file}#${m.i}`, m.doc] as const))('%s validates strictly against its schema', (_, doc) => {
    expect(k8sProblems(doc)).toEqual([]);
  });
});

describe('every kustomization', () => {
  it.each(KUSTOMIZATIONS)('%s builds, and what it builds validates strictly', (dir) => {
    const build = kustomize(dir);
    expect(build.problems).toEqual([]);
    expect(build.resources.length).toBeGreaterThan(0);
    for (const r of build.resources) expect(k8sProblems(r), `${r['kind']}/${r['metadata'].name}`).toEqual([]);
  });

  it.each(OVERLAYS)('%s builds on the base', (dir) => {
    const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Resource;
    expect(k['resources']).toContain('../../base');
  });

  it.each(KUSTOMIZATIONS)('%s mounts only ConfigMaps it builds or that are provided', (dir) => {
    const { resources } = kustomize(dir);
    const built = new Set(resources.filter((r) => r['kind'] === 'ConfigMap').map((r) => `${r['metadata'].namespace}/${r['metadata'].name}`));
    for (const d of resources.filter((r) => r['kind'] === 'Deployment')) {
      for (const v of d['spec'].template.spec.volumes ?? []) {
        if (!v.configMap || PROVIDED_CONFIGMAPS.has(v.configMap.name)) continue;
        expect(built, `${d['metadata'].name} volume ${v.name}`).toContain(`${d['metadata'].namespace}/${v.configMap.name}`);
      }
    }
  });

  it.skipIf(!hasKubectl())('each is built by the real kustomize (kubectl kustomize) to the same objects', () => {
    for (const dir of KUSTOMIZATIONS) {
      const ids = (rs: Resource[]): string[] =>
        rs.map((r) => `${r['kind']}/${r['metadata'].namespace ?? ''}/${String(r['metadata'].name).replace(/-[a-z0-9]{10}$/, '')}`).sort();
      const real = parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map((d) => d.toJS() as Resource);
      expect(ids(kustomize(dir).resources), dir).toEqual(ids(real));
      for (const r of real) expect(k8sProblems(r), `${dir}: ${r['kind']}/${r['metadata'].name}`).toEqual([]);
    }
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

describe('the base', () => {
  const { resources } = kustomize('k8s/base');
  const deployment = kind(resources, 'Deployment', 'meshwarden');
  const pod = deployment['spec'].template.spec;
  const container = pod.containers.find((c: Resource) => c['name'] === 'meshwarden');

  it('runs three replicas spread over zones and nodes', () => {
    expect(deployment['spec'].replicas).toBe(3);
    expect(pod.topologySpreadConstraints.map((t: Resource) => t['topologyKey']).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  });

  it('probes readiness and liveness with native gRPC health checks on 9191', () => {
    expect(container.readinessProbe.grpc).toEqual({ port: 9191, service: 'envoy.service.auth.v3.Authorization' });
    expect(container.livenessProbe.grpc.port).toBe(9191);
    expect(container.livenessProbe.grpc).toHaveProperty('service');
  });

  it('runs non-root, read-only, without capabilities, under the RuntimeDefault seccomp profile', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
  });

  it('exposes gRPC on a Service with appProtocol grpc', () => {
    const ports = kind(resources, 'Service', 'meshwarden')['spec'].ports;
    expect(ports).toContainEqual(expect.objectContaining({ name: 'grpc', port: 9191, appProtocol: 'grpc' }));
  });

  it('scales with an autoscaling/v2 HPA that targets the Deployment and is covered by a PDB', () => {
    const hpa = kind(resources, 'HorizontalPodAutoscaler');
    expect(hpa['apiVersion']).toBe('autoscaling/v2');
    expect(hpa['spec'].scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'meshwarden' });
    expect(hpa['spec'].minReplicas).toBeGreaterThanOrEqual(deployment['spec'].replicas);
    expect(kind(resources, 'PodDisruptionBudget')['spec'].selector).toEqual(deployment['spec'].selector);
  });

  it('admits the mesh only to the ext_authz listeners (gRPC, and HTTP where an overlay turns it on) and the monitoring namespace only to admin', () => {
    const policy = kind(resources, 'NetworkPolicy')['spec'];
    expect(policy.podSelector).toEqual(deployment['spec'].selector);
    const ports = policy.ingress.map((rule: Resource) => rule['ports'].map((p: Resource) => p['port']));
    expect(ports).toEqual([[9191, 9192], [9901]]);
    expect(policy.ingress[1].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  });

  it('is scraped by a ServiceMonitor on the Service port that serves /metrics', () => {
    const monitor = kind(resources, 'ServiceMonitor')['spec'];
    const service = kind(resources, 'Service', 'meshwarden');
    expect(service['metadata'].labels).toMatchObject(monitor.selector.matchLabels);
    const portNames = service['spec'].ports.map((p: Resource) => p['name']);
    expect(portNames).toContain(monitor.endpoints[0].port);
    expect(service['spec'].ports.find((p: Resource) => p['name'] === monitor.endpoints[0].port).port).toBe(9901);
  });

  it('listens for admin on 0.0.0.0:9901 in-cluster and for gRPC on 0.0.0.0:9191', () => {
    const config = parse(readFileSync('k8s/base/config.yaml', 'utf8')) as Resource;
    expect(config['admin']).toEqual({ address: '0.0.0.0:9901' });
    expect(config['grpc']).toEqual({ address: '0.0.0.0:9191' });
  });

  it('packs the config and every policy file into generated ConfigMaps mounted where the image looks', () => {
    const policies = readdirSync('k8s/base/policies').filter((f) => f !== 'kustomization.yaml').sort();
    const cm = resources.find((r) => r['kind'] === 'ConfigMap' && r['metadata'].name.startsWith('meshwarden-policies-'));
    expect(Object.keys(cm!['data']).sort()).toEqual(policies);
    const mounts = container.volumeMounts.map((m: Resource) => m['mountPath']);
    expect(mounts).toEqual(expect.arrayContaining(['/etc/meshwarden/config.yaml', '/etc/meshwarden/policies']));
  });
});
