// The SPIRE deployments are wired end to end: envoy/meshwarden/spire.yaml reads the socket
// envoy/sidecar-unix.yaml takes its SDS secrets from and listens where that Envoy dials, and
// k8s/overlays/spire mounts the agent socket from the SPIFFE CSI driver where
// SPIFFE_ENDPOINT_SOCKET points, serves the SVID on the gRPC port and probes over the admin port.
// Neither names a bundle, certificate or key file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/build.js';
import { parseConfigText } from '../../src/config/load.js';
import { kustomize, type Resource } from './lib/kustomize.js';

const text = (file: string) => readFileSync(file, 'utf8');
const load = (file: string, configText = text(file), env: NodeJS.ProcessEnv = {}) => buildConfig(parseConfigText(configText, file), path.dirname(path.resolve(file)), env);

describe('envoy/meshwarden/spire.yaml beside envoy/sidecar-unix.yaml', () => {
  const config = load('envoy/meshwarden/spire.yaml', undefined, { SPIFFE_ENDPOINT_SOCKET: 'unix:/not/this.sock' });
  const envoy = text('envoy/sidecar-unix.yaml');

  it('streams its bundles from the agent socket the Envoy takes its SDS secrets from', () => {
    const socket = config.identity?.workloadApi?.socket;
    expect(socket).toMatch(/^unix:\//);
    expect(envoy).toMatch(new RegExp(`cluster_name: spire_agent[\\s\\S]*pipe: \\{ path: ${socket!.slice('unix:'.length)} \\}`));
  });

  it('listens where that Envoy dials meshwarden, and names no key file', () => {
    expect(envoy).toContain(`pipe: { path: ${config.grpc.address.slice('unix:'.length)} }`);
    expect(config.identity?.trustDomains).toEqual({});
    expect(config.grpc.tls).toBeUndefined();
  });
});

describe('k8s/overlays/spire', () => {
  const { resources } = kustomize('k8s/overlays/spire');
  const deployment = resources.find((r) => r['kind'] === 'Deployment' && r['metadata'].name === 'meshwarden')!;
  const pod = deployment['spec'].template.spec;
  const container = pod.containers.find((c: Resource) => c['name'] === 'meshwarden');
  const volume = (name: string) => pod.volumes.find((v: Resource) => v['name'] === name);
  const mountOf = (name: string) => container.volumeMounts.find((m: Resource) => m['name'] === name);
  const endpoint = container.env.find((e: Resource) => e['name'] === 'SPIFFE_ENDPOINT_SOCKET')?.value as string;
  const configMap = resources.find((r) => r['kind'] === 'ConfigMap' && r['metadata'].name === volume('config').configMap.name)!;
  const config = load('k8s/overlays/spire/config.yaml', configMap['data']['config.yaml'], { SPIFFE_ENDPOINT_SOCKET: endpoint });

  it('mounts the agent socket from the SPIFFE CSI driver where SPIFFE_ENDPOINT_SOCKET points', () => {
    const trust = volume('trust');
    expect(trust).toEqual({ name: 'trust', csi: { driver: 'csi.spiffe.io', readOnly: true } });
    expect(endpoint).toBe(`unix://${mountOf('trust').mountPath}/spire-agent.sock`);
  });

  it('serves its SVID on the gRPC port and takes its bundles from the same socket, no file named', () => {
    expect(config.grpc.tls).toMatchObject({ workloadApi: { socket: endpoint } });
    expect(config.grpc.tls?.allowedClientIds.length).toBeGreaterThan(0);
    expect(config.identity?.workloadApi).toEqual({ socket: endpoint });
    expect(config.identity?.trustDomains).toEqual({});
  });

  it('probes over the admin port: the kubelet cannot speak mTLS to the gRPC port', () => {
    const adminPort = Number(config.admin.address.split(':').at(-1));
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(container[probe], probe).not.toHaveProperty('grpc');
      expect(container[probe].httpGet.port, probe).toBe(adminPort);
    }
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
  });
});
