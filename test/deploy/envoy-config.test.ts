// The Envoy configurations in envoy/ decode as Envoy's own v3 Bootstrap, and say what
// meshwarden needs: fail closed, gRPC v3 over HTTP/2, health-checked, per-route context.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvoySchema } from './lib/envoy-schema.js';
import {
  cluster,
  httpConnectionManagers,
  httpFilterNames,
  isObject,
  routes,
  typedConfig,
  wiringProblems,
  type JsonObject,
} from './lib/envoy-wiring.js';

const ENVOY_DIR = 'envoy';
const envoyFiles = readdirSync(ENVOY_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(ENVOY_DIR, f));

/** The one file that asks meshwarden over Envoy's HTTP service; every other asks over gRPC. */
const HTTP_SERVICE_FILE = path.join(ENVOY_DIR, 'sidecar-http.yaml');
const grpcFiles = envoyFiles.filter((f) => f !== HTTP_SERVICE_FILE);

function load(file: string): JsonObject {
  return parse(readFileSync(file, 'utf8')) as JsonObject;
}

let schema: EnvoySchema;
beforeAll(() => {
  schema = EnvoySchema.load();
});

describe('every Envoy file', () => {
  it('exists for the sidecar (over gRPC and over the HTTP service), the gateway, the unix-socket sidecar and a TCP server', () => {
    expect(envoyFiles.map((f) => path.basename(f)).sort()).toEqual(['gateway.yaml', 'sidecar-http.yaml', 'sidecar-unix.yaml', 'sidecar.yaml', 'tcp-redis.yaml']);
  });

  it.each(envoyFiles)('%s decodes strictly as envoy.config.bootstrap.v3.Bootstrap', (file) => {
    expect(schema.check(load(file))).toEqual([]);
  });

  it.each(envoyFiles)('%s references only clusters and filters that it defines', (file) => {
    expect(wiringProblems(load(file))).toEqual([]);
  });

  it.each(grpcFiles)('%s calls meshwarden fail-closed over gRPC v3 with a timeout', (file) => {
    const [extAuthz, ...more] = typedConfig(load(file), '.ext_authz.v3.ExtAuthz');
    expect(more).toEqual([]);
    expect(extAuthz).toMatchObject({
      transport_api_version: 'V3',
      failure_mode_allow: false,
      grpc_service: { envoy_grpc: { cluster_name: 'meshwarden' } },
    });
    const timeout = String((extAuthz!['grpc_service'] as JsonObject)['timeout']);
    expect(Number(timeout.replace(/s$/, ''))).toBeGreaterThan(0);
  });

  it.each(grpcFiles)('%s speaks HTTP/2 to meshwarden and health-checks its Authorization service', (file) => {
    const meshwarden = cluster(load(file), 'meshwarden');
    expect(meshwarden).toBeDefined();
    const options = (meshwarden!['typed_extension_protocol_options'] as JsonObject)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(options).toMatchObject({ explicit_http_config: { http2_protocol_options: {} } });
    expect(meshwarden!['health_checks']).toEqual([
      expect.objectContaining({ grpc_health_check: { service_name: 'envoy.service.auth.v3.Authorization' } }),
    ]);
  });

  it.each(grpcFiles)('%s names the destination service per route and skips authz for health checks', (file) => {
    for (const hcm of httpConnectionManagers(load(file))) {
      const perRoute = routes(hcm).map((r) => (r['typed_per_filter_config'] as JsonObject)['envoy.filters.http.ext_authz'] as JsonObject);
      expect(perRoute.filter((c) => c['disabled'] === true)).toHaveLength(1);
      const services = perRoute
        .filter((c) => isObject(c['check_settings']))
        .map((c) => ((c['check_settings'] as JsonObject)['context_extensions'] as JsonObject)['service']);
      expect(services.length).toBeGreaterThan(0);
      expect(services.every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
    }
  });

  it.each(envoyFiles)('%s normalizes paths before authorizing them', (file) => {
    for (const hcm of httpConnectionManagers(load(file))) {
      expect(hcm).toMatchObject({ normalize_path: true, merge_slashes: true, path_with_escaped_slashes_action: 'REJECT_REQUEST' });
    }
  });
});

describe('the sidecars', () => {
  const sidecars = ['envoy/sidecar.yaml', 'envoy/sidecar-unix.yaml'];

  it.each(sidecars)('%s requires and validates a client certificate and sends it to meshwarden', (file) => {
    const doc = load(file);
    const [tls] = typedConfig(doc, '.tls.v3.DownstreamTlsContext');
    expect(tls).toMatchObject({ require_client_certificate: true });
    const common = tls!['common_tls_context'] as JsonObject;
    expect(common['validation_context'] ?? common['combined_validation_context']).toBeDefined();
    expect(typedConfig(doc, '.ext_authz.v3.ExtAuthz')[0]).toMatchObject({ include_peer_certificate: true });
  });

  it('sidecar.yaml trusts a SPIFFE bundle file through the SPIFFE certificate validator', () => {
    const [validator] = typedConfig(load('envoy/sidecar.yaml'), '.tls.v3.SPIFFECertValidatorConfig');
    expect(validator).toMatchObject({ trust_domains: [{ name: 'prod.example', trust_bundle: { filename: expect.any(String) } }] });
  });

  it('sidecar-unix.yaml takes its SVID and bundle over SDS and reaches meshwarden on a unix socket', () => {
    const doc = load('envoy/sidecar-unix.yaml');
    const [tls] = typedConfig(doc, '.tls.v3.DownstreamTlsContext');
    const common = tls!['common_tls_context'] as JsonObject;
    expect(common['tls_certificate_sds_secret_configs']).toHaveLength(1);
    expect(common['combined_validation_context']).toMatchObject({ validation_context_sds_secret_config: { name: 'ROOTCA' } });
    const endpoint = JSON.stringify(cluster(doc, 'meshwarden')!['load_assignment']);
    expect(endpoint).toContain('"pipe":{"path":"/var/run/meshwarden/authz.sock"}');
  });
});

describe('the TCP listener (tcp-redis.yaml)', () => {
  const doc = () => load('envoy/tcp-redis.yaml');
  const listenerFilters = () => [...networkFilterNames(doc())];

  it('requires a client SVID, then asks meshwarden before tcp_proxy sees a byte', () => {
    expect(typedConfig(doc(), '.tls.v3.DownstreamTlsContext')[0]).toMatchObject({ require_client_certificate: true });
    expect(listenerFilters()).toEqual(['envoy.filters.network.ext_authz', 'envoy.filters.network.tcp_proxy']);
  });

  it('sends the peer certificate and the SNI, which the TLS inspector reads', () => {
    expect(typedConfig(doc(), '.network.ext_authz.v3.ExtAuthz')[0]).toMatchObject({ include_peer_certificate: true, include_tls_session: true });
    expect(typedConfig(doc(), '.tls_inspector.v3.TlsInspector')).toHaveLength(1);
  });
});

/** The network filters of every filter chain, in order. */
function* networkFilterNames(bootstrap: JsonObject): Generator<string> {
  const listeners = ((bootstrap['static_resources'] as JsonObject)['listeners'] as JsonObject[]) ?? [];
  for (const listener of listeners) {
    for (const chain of listener['filter_chains'] as JsonObject[]) for (const filter of chain['filters'] as JsonObject[]) yield String(filter['name']);
  }
}

describe('the sidecar over the HTTP service (sidecar-http.yaml)', () => {
  const doc = () => load(HTTP_SERVICE_FILE);
  const meshwardenConfig = () => load('envoy/meshwarden/sidecar-http.yaml');
  const extAuthz = () => typedConfig(doc(), '.ext_authz.v3.ExtAuthz')[0]!;
  const patterns = (list: unknown) => ((list as JsonObject)['patterns'] as JsonObject[]).map((p) => p['exact'] ?? `${String(p['prefix'])}*`);

  it('calls meshwarden fail-closed over the HTTP service, under the path prefix meshwarden takes off', () => {
    expect(extAuthz()).toMatchObject({ transport_api_version: 'V3', failure_mode_allow: false, http_service: { server_uri: { cluster: 'meshwarden', timeout: '0.25s' } } });
    const service = extAuthz()['http_service'] as JsonObject;
    expect(service['path_prefix']).toBe((meshwardenConfig()['http'] as JsonObject)['pathPrefix']);
  });

  it('speaks HTTP/1.1 to where meshwarden listens, retires idle connections first, and health-checks /healthz', () => {
    const meshwarden = cluster(doc(), 'meshwarden')!;
    const options = (meshwarden['typed_extension_protocol_options'] as JsonObject)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(options).toMatchObject({ explicit_http_config: { http_protocol_options: {} }, common_http_protocol_options: { idle_timeout: '60s' } });
    expect(meshwarden['health_checks']).toEqual([expect.objectContaining({ http_health_check: { path: '/healthz' } })]);
    const address = (meshwardenConfig()['http'] as JsonObject)['address'];
    expect(JSON.stringify(meshwarden['load_assignment'])).toContain(JSON.stringify({ address: String(address).split(':')[0], port_value: Number(String(address).split(':')[1]) }));
  });

  it('names the destination per route in metadata that headers_to_add sends, and skips authz for health checks', () => {
    const [hcm] = httpConnectionManagers(doc());
    const perRoute = routes(hcm!).map((r) => (r['typed_per_filter_config'] as JsonObject | undefined)?.['envoy.filters.http.ext_authz'] as JsonObject | undefined);
    expect(perRoute.filter((c) => c?.['disabled'] === true)).toHaveLength(1);
    const services = routes(hcm!).map((r) => ((r['metadata'] as JsonObject | undefined)?.['filter_metadata'] as JsonObject | undefined)?.['meshwarden']);
    expect(services).toContainEqual({ service: 'payments', namespace: 'prod' });
    const added = ((extAuthz()['http_service'] as JsonObject)['authorization_request'] as JsonObject)['headers_to_add'] as JsonObject[];
    expect(added).toContainEqual({ key: 'x-meshwarden-context-service', value: '%METADATA(ROUTE:meshwarden:service)%' });
  });

  it('sends meshwarden the verified caller (XFCC) and never a caller\'s own x-meshwarden-* headers', () => {
    const [hcm] = httpConnectionManagers(doc());
    expect(hcm).toMatchObject({ forward_client_cert_details: 'SANITIZE_SET', set_current_client_cert_details: { uri: true } });
    expect(patterns(extAuthz()['allowed_headers'])).toEqual(expect.arrayContaining(['x-request-id', 'x-forwarded-client-cert', 'content-type']));
    expect(patterns(extAuthz()['disallowed_headers'])).toEqual(['x-meshwarden-*']);
    expect(meshwardenConfig()['identity']).toMatchObject({ trustForwardedClientCert: true });
  });

  it('lets only the verified principal upstream, and meshwarden\'s body, type and challenge to a refused caller', () => {
    const response = (extAuthz()['http_service'] as JsonObject)['authorization_response'] as JsonObject;
    expect(patterns(response['allowed_upstream_headers'])).toEqual(['x-meshwarden-principal']);
    expect(patterns(response['allowed_client_headers'])).toEqual(['content-type', 'www-authenticate']);
  });
});

describe('the gateway', () => {
  it('verifies JWTs before ext_authz and passes the verified claims on', () => {
    const doc = load('envoy/gateway.yaml');
    const [hcm] = httpConnectionManagers(doc);
    const names = httpFilterNames(hcm!);
    expect(names.indexOf('envoy.filters.http.jwt_authn')).toBeLessThan(names.indexOf('envoy.filters.http.ext_authz'));
    const [extAuthz] = typedConfig(doc, '.ext_authz.v3.ExtAuthz');
    expect(extAuthz!['metadata_context_namespaces']).toContain('envoy.filters.http.jwt_authn');
    const [jwt] = typedConfig(doc, '.jwt_authn.v3.JwtAuthentication');
    const providers = Object.values(jwt!['providers'] as JsonObject) as JsonObject[];
    expect(providers.every((p) => typeof p['payload_in_metadata'] === 'string')).toBe(true);
  });

  it('does not believe X-Forwarded-For from the internet', () => {
    const [hcm] = httpConnectionManagers(load('envoy/gateway.yaml'));
    expect(hcm).toMatchObject({ use_remote_address: true, xff_num_trusted_hops: 0 });
  });
});

describe('the copy in the sidecar overlay', () => {
  it('is byte for byte envoy/sidecar-unix.yaml, because kustomize cannot read files outside its root', () => {
    expect(readFileSync('k8s/overlays/sidecar/envoy.yaml', 'utf8')).toBe(readFileSync('envoy/sidecar-unix.yaml', 'utf8'));
  });
});
