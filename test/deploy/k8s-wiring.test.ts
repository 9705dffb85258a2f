// The pieces under k8s/ agree with each other and with Istio's and meshwarden's own
// vocabularies: provider names, service addresses, socket paths, policy fields.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { k8sProblems } from './lib/k8s-schema.js';
import { kustomize, readYamlDocuments, type Resource } from './lib/kustomize.js';

/**
 * Fields of Istio's MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationGrpcProvider
 * (istio/api mesh/v1alpha1/config.proto), in their JSON names. The IstioOperator CRD
 * leaves meshConfig untyped, so this is the schema here. `includeRequestHeadersInCheck`
 * exists only for the HTTP provider: over gRPC Envoy sends every header anyway.
 */
const ISTIO_GRPC_PROVIDER_FIELDS = new Set(['service', 'port', 'timeout', 'failOpen', 'statusOnError', 'includeRequestBodyInCheck']);

/** MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationHttpProvider, likewise (includeHeadersInCheck is deprecated). */
const ISTIO_HTTP_PROVIDER_FIELDS = new Set([
  'service',
  'port',
  'timeout',
  'pathPrefix',
  'failOpen',
  'statusOnError',
  'includeRequestHeadersInCheck',
  'includeAdditionalHeadersInCheck',
  'includeRequestBodyInCheck',
  'headersToUpstreamOnAllow',
  'headersToDownstreamOnDeny',
  'headersToDownstreamOnAllow',
]);

function providers(meshConfig: Resource): Resource[] {
  return meshConfig['extensionProviders'] as Resource[];
}

describe('the istio overlay', () => {
  const operator = readYamlDocuments('k8s/overlays/istio/istio-operator.yaml')[0]!;
  const helmValues = parse(readFileSync('k8s/overlays/istio/istiod-values.yaml', 'utf8')) as Resource;
  const [provider, httpProvider] = providers(operator['spec'].meshConfig);
  const { resources } = kustomize('k8s/overlays/istio');

  it('registers meshwarden as an envoyExtAuthzGrpc provider with only fields Istio defines', () => {
    expect(Object.keys(provider!)).toEqual(['name', 'envoyExtAuthzGrpc']);
    for (const key of Object.keys(provider!['envoyExtAuthzGrpc'])) expect(ISTIO_GRPC_PROVIDER_FIELDS).toContain(key);
    expect(provider!['envoyExtAuthzGrpc']).toMatchObject({ failOpen: false, port: 9191 });
    expect(provider!['envoyExtAuthzGrpc'].timeout).toMatch(/^\d+(\.\d+)?s$/);
    expect(provider!['envoyExtAuthzGrpc'].statusOnError).toMatch(/^[1-5]\d\d$/);
  });

  it('points the provider at the meshwarden Service and its gRPC port', () => {
    const service = resources.find((r) => r['kind'] === 'Service' && r['metadata'].name === 'meshwarden')!;
    const host = `${service['metadata'].name}.${service['metadata'].namespace}.svc.cluster.local`;
    expect(provider!['envoyExtAuthzGrpc'].service).toBe(host);
    const grpc = service['spec'].ports.find((p: Resource) => p['appProtocol'] === 'grpc');
    expect(provider!['envoyExtAuthzGrpc'].port).toBe(grpc.port);
  });

  it('has each sidecar recycle its connection to the provider, so replicas a scale-up added get Checks', () => {
    const rule = resources.find((r) => r['kind'] === 'DestinationRule')!;
    expect(rule['spec'].host).toBe(provider!['envoyExtAuthzGrpc'].service);
    expect(rule['spec'].trafficPolicy.connectionPool.tcp.maxConnectionDuration).toMatch(/^\d+s$/);
  });

  it('registers meshwarden-http beside it, an envoyExtAuthzHttp provider with only fields Istio defines', () => {
    expect(Object.keys(httpProvider!)).toEqual(['name', 'envoyExtAuthzHttp']);
    const http = httpProvider!['envoyExtAuthzHttp'];
    for (const key of Object.keys(http)) expect(ISTIO_HTTP_PROVIDER_FIELDS).toContain(key);
    expect(http).toMatchObject({ service: provider!['envoyExtAuthzGrpc'].service, failOpen: false, statusOnError: '503' });
    expect(http.timeout).toMatch(/^\d+(\.\d+)?s$/);
  });

  it('points the HTTP provider at the Service port of the HTTP listener the Deployment starts', () => {
    const service = resources.find((r) => r['kind'] === 'Service' && r['metadata'].name === 'meshwarden')!;
    const port = service['spec'].ports.find((p: Resource) => p['name'] === 'http-authz');
    expect(port).toMatchObject({ port: httpProvider!['envoyExtAuthzHttp'].port, targetPort: 'http-authz', appProtocol: 'http' });
    const container = resources.find((r) => r['kind'] === 'Deployment')!['spec'].template.spec.containers[0];
    const listening = container.ports.find((p: Resource) => p['name'] === 'http-authz').containerPort;
    expect(container.args.join(' ')).toContain(`--http 0.0.0.0:${listening}`);
    expect(container.ports.map((p: Resource) => p['name'])).toEqual(expect.arrayContaining(['grpc', 'http-admin', 'http-authz']));
    const policy = resources.find((r) => r['kind'] === 'NetworkPolicy')!;
    expect(policy['spec'].ingress[0].ports.map((p: Resource) => p['port'])).toContain(listening);
  });

  it('sends meshwarden over HTTP what the gRPC provider carries outside the headers, from Envoy, and never lets a caller send it', () => {
    const http = httpProvider!['envoyExtAuthzHttp'];
    expect(http.includeAdditionalHeadersInCheck).toEqual({
      'x-meshwarden-source-principal': '%DOWNSTREAM_PEER_URI_SAN%',
      'x-meshwarden-source-address': '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
      'x-meshwarden-destination-principal': '%DOWNSTREAM_LOCAL_URI_SAN%',
    });
    expect((http.includeRequestHeadersInCheck as string[]).filter((name) => name.toLowerCase().startsWith('x-meshwarden-'))).toEqual([]);
    expect(http.headersToUpstreamOnAllow).toEqual(['x-meshwarden-principal']);
    expect(http.headersToDownstreamOnDeny).toEqual(['content-type', 'www-authenticate']);
  });

  it('gives Helm users the same provider as istioctl users', () => {
    expect(providers(helmValues['meshConfig'])).toEqual(providers(operator['spec'].meshConfig));
  });

  it('sends a namespace to the provider with a CUSTOM AuthorizationPolicy', () => {
    const policy = resources.find((r) => r['kind'] === 'AuthorizationPolicy')!;
    expect(policy['spec']).toMatchObject({ action: 'CUSTOM', provider: { name: provider!['name'] } });
    expect(policy['metadata'].namespace).not.toBe('meshwarden');
  });

  it('trusts the mesh root that istiod publishes', () => {
    const deployment = resources.find((r) => r['kind'] === 'Deployment')!;
    const trust = deployment['spec'].template.spec.volumes.find((v: Resource) => v['name'] === 'trust');
    expect(trust).toEqual({ name: 'trust', configMap: { name: 'istio-ca-root-cert' } });
  });
});

describe('the sidecar overlay', () => {
  const { resources } = kustomize('k8s/overlays/sidecar');
  const app = resources.find((r) => r['kind'] === 'Deployment' && r['metadata'].name === 'payments')!;
  const pod = app['spec'].template.spec;
  const container = (name: string): Resource => pod.containers.find((c: Resource) => c['name'] === name);
  const config = parse(readFileSync('k8s/overlays/sidecar/config.yaml', 'utf8')) as Resource;
  const socket = String(config['grpc'].address).replace(/^unix:/, '');

  it('runs meshwarden beside the application and Envoy in one pod', () => {
    expect(pod.containers.map((c: Resource) => c['name']).sort()).toEqual(['app', 'envoy', 'meshwarden']);
  });

  it('shares the unix socket between Envoy and meshwarden through an emptyDir', () => {
    const volume = pod.volumes.find((v: Resource) => v['emptyDir'] && v['name'] === 'meshwarden-socket');
    expect(volume).toBeDefined();
    for (const name of ['envoy', 'meshwarden']) {
      const mount = container(name)['volumeMounts'].find((m: Resource) => m['name'] === 'meshwarden-socket');
      expect(socket.startsWith(`${mount.mountPath}/`), name).toBe(true);
    }
    expect(readFileSync('k8s/overlays/sidecar/envoy.yaml', 'utf8')).toContain(`pipe: { path: ${socket} }`);
  });

  it('runs every container non-root, read-only and without capabilities', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of pod.containers) {
      expect(c.securityContext, c.name).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  it('exposes only Envoy to the network', () => {
    const service = resources.find((r) => r['kind'] === 'Service' && r['metadata'].namespace === 'payments')!;
    expect(service['spec'].ports.map((p: Resource) => p['port'])).toEqual([8443]);
    expect(container('app')['env']).toContainEqual({ name: 'HOST', value: '127.0.0.1' });
  });
});

describe('the example policies', () => {
  const files = ['k8s/base/policies', 'k8s/overlays/sidecar/policies'].flatMap((dir) =>
    readdirSync(dir).filter((f) => f !== 'kustomization.yaml').map((f) => path.join(dir, f)),
  );
  const docs = files.flatMap((file) => readYamlDocuments(file).map((doc) => [file, doc] as const));

  it.each(docs)('%s is a policy in a format meshwarden accepts', (_, doc) => {
    expect(['meshwarden.io/v1', 'security.istio.io/v1', 'security.istio.io/v1beta1']).toContain(doc['apiVersion']);
    expect(doc['kind']).toBe('AuthorizationPolicy');
    expect(doc['metadata'].name).toMatch(/^[a-z0-9-]+$/);
  });

  it.each(docs)('%s uses only Istio rule fields (native policies add target and mode)', (_, doc) => {
    // The native format is Istio's model plus `target` and `mode` (DESIGN.md), so its
    // rules are checked with Istio's schema once those two are set aside.
    const { target, mode, ...istioSpec } = doc['spec'] as Resource;
    if (doc['apiVersion'] === 'meshwarden.io/v1') {
      expect(['enforce', 'dry-run']).toContain(mode);
      if (target !== undefined) expect(Object.keys(target)).toEqual(['services']);
    } else {
      expect({ target, mode }).toEqual({ target: undefined, mode: undefined });
    }
    const asIstio = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: doc['metadata'], spec: istioSpec };
    expect(k8sProblems(asIstio)).toEqual([]);
  });
});
