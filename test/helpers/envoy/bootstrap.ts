/**
 * Bootstrap pieces in the shape of the shipped configs (envoy/sidecar.yaml, envoy/gateway.yaml),
 * pointed at loopback: listeners on port 0, meshwarden and the workload on 127.0.0.1 (or a
 * unix socket), certificates from the test PKI, one JSON access log in Envoy's temp dir that
 * reads meshwarden's dynamic metadata.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../server-process.js';
import { ACCESS_LOG, loopback } from './envoy-process.js';

type Json = Record<string, unknown>;

const TYPE = 'type.googleapis.com/envoy.extensions';
export const EXT_AUTHZ = 'envoy.filters.http.ext_authz';
export const JWT_AUTHN = 'envoy.filters.http.jwt_authn';

export function bootstrap(parts: { listeners: Json[]; clusters: Json[]; node?: Json }): Json {
  return { ...(parts.node ? { node: parts.node } : {}), static_resources: { listeners: parts.listeners, clusters: parts.clusters } };
}

const authz = (key: string) => `%DYNAMIC_METADATA(${EXT_AUTHZ}:${key})%`;

/** What Envoy's access log says of each request; the meshwarden fields come from its dynamic metadata. */
export const ACCESS_LOG_FORMAT = {
  path: '%REQ(:PATH)%',
  method: '%REQ(:METHOD)%',
  status: '%RESPONSE_CODE%',
  flags: '%RESPONSE_FLAGS%',
  details: '%RESPONSE_CODE_DETAILS%',
  route: '%ROUTE_NAME%',
  upstream: '%UPSTREAM_HOST%',
  request_id: '%REQ(X-REQUEST-ID)%',
  decision: authz('decision'),
  policy: authz('policy'),
  rule: authz('rule'),
  reason: authz('reason'),
  decision_id: authz('decision_id'),
} as const;

export function accessLog(): Json {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': `${TYPE}.access_loggers.file.v3.FileAccessLog`,
      path: ACCESS_LOG,
      log_format: { json_format: ACCESS_LOG_FORMAT },
    },
  };
}

export interface RouteSpec {
  readonly name: string;
  /** An Envoy RouteMatch: `{ path }`, `{ prefix }`, plus `headers` etc. as Envoy takes them. */
  readonly match: Json;
  /** context_extensions.service (and namespace) for meshwarden; absent: none set. */
  readonly service?: string;
  readonly namespace?: string;
  /** ext_authz disabled on this route, as /healthz is in the shipped configs. */
  readonly authzDisabled?: boolean;
  readonly cluster?: string;
}

/**
 * The route's service and namespace reach meshwarden as context_extensions over gRPC, and over
 * the HTTP service as route metadata that the filter's headers_to_add reads (extAuthzHttpFilter).
 */
export function route(spec: RouteSpec): Json {
  const extensions = { ...(spec.service ? { service: spec.service } : {}), ...(spec.namespace ? { namespace: spec.namespace } : {}) };
  const perRoute = spec.authzDisabled
    ? { disabled: true }
    : Object.keys(extensions).length > 0 ? { check_settings: { context_extensions: extensions } } : undefined;
  return {
    name: spec.name,
    match: spec.match,
    route: { cluster: spec.cluster ?? 'app', timeout: '5s' },
    ...(Object.keys(extensions).length > 0 ? { metadata: { filter_metadata: { [ROUTE_METADATA]: extensions } } } : {}),
    ...(perRoute
      ? { typed_per_filter_config: { [EXT_AUTHZ]: { '@type': `${TYPE}.filters.http.ext_authz.v3.ExtAuthzPerRoute`, ...perRoute } } }
      : {}),
  };
}

export interface ExtAuthzOptions {
  /** ext_authz's gRPC timeout; the shipped configs say 0.25s. */
  readonly timeout?: string;
  readonly includePeerCertificate?: boolean;
  readonly metadataContextNamespaces?: readonly string[];
  /** Buffer the request body (up to this many bytes) and send it in the CheckRequest. */
  readonly withRequestBodyBytes?: number;
  /** Send headers as `header_map` (raw bytes, one entry per line) instead of the `headers` map. */
  readonly encodeRawHeaders?: boolean;
}

/** As in the shipped configs: V3, fail closed, 503 when meshwarden does not answer. */
export function extAuthzFilter(options: ExtAuthzOptions = {}): Json {
  return {
    name: EXT_AUTHZ,
    typed_config: {
      '@type': `${TYPE}.filters.http.ext_authz.v3.ExtAuthz`,
      transport_api_version: 'V3',
      grpc_service: {
        envoy_grpc: { cluster_name: 'meshwarden' },
        timeout: options.timeout ?? '1s',
        // as the shipped configs: a stream refused by a retiring connection was never processed
        retry_policy: { retry_on: 'refused-stream', num_retries: 5 },
      },
      failure_mode_allow: false,
      status_on_error: { code: 'ServiceUnavailable' },
      include_peer_certificate: options.includePeerCertificate ?? false,
      ...(options.metadataContextNamespaces ? { metadata_context_namespaces: options.metadataContextNamespaces } : {}),
      ...(options.encodeRawHeaders ? { encode_raw_headers: true } : {}),
      ...(options.withRequestBodyBytes ? { with_request_body: { max_request_bytes: options.withRequestBodyBytes } } : {}),
    },
  };
}

/** Where routes keep what the HTTP service is told of the destination (`%METADATA(ROUTE:meshwarden:KEY)%`). */
export const ROUTE_METADATA = 'meshwarden';

/** The ext_authz filter of envoy/sidecar-http.yaml, as shipped. */
const SHIPPED_HTTP_FILTER = shippedHttpFilter();

function shippedHttpFilter(): Json {
  const bootstrap = parse(readFileSync(join(REPO_ROOT, 'envoy', 'sidecar-http.yaml'), 'utf8')) as { static_resources: { listeners: Json[] } };
  const chains = bootstrap.static_resources.listeners.flatMap((listener) => listener['filter_chains'] as Json[]);
  const managers = chains.flatMap((chain) => (chain['filters'] as Json[]).map((f) => f['typed_config'] as Json));
  const filter = managers.flatMap((hcm) => (hcm['http_filters'] as Json[] | undefined) ?? []).find((f) => f['name'] === EXT_AUTHZ);
  if (filter === undefined) throw new Error('envoy/sidecar-http.yaml has no ext_authz filter');
  return filter;
}

/** meshwarden's HTTP ext_authz listener takes this off every path (its `http.pathPrefix`): the shipped file's. */
export const HTTP_PATH_PREFIX = String(((SHIPPED_HTTP_FILTER['typed_config'] as Json)['http_service'] as Json)['path_prefix']);

/**
 * ext_authz over Envoy's HTTP service exactly as envoy/sidecar-http.yaml ships it (fail closed;
 * the route's service and namespace, the caller's address and this listener's SPIFFE ID added
 * as x-meshwarden-* headers; no caller's own x-meshwarden-* let through; the verified principal,
 * or its removal, upstream; the denial's type and challenge to the client), but for where
 * meshwarden is, the timeout, and the request header the tests' policies name (x-tenant).
 */
export function extAuthzHttpFilter(options: Pick<ExtAuthzOptions, 'timeout' | 'withRequestBodyBytes'> = {}): Json {
  const filter = structuredClone(SHIPPED_HTTP_FILTER);
  const config = filter['typed_config'] as Json;
  (config['http_service'] as Json)['server_uri'] = { uri: 'http://meshwarden-http', cluster: 'meshwarden_http', timeout: options.timeout ?? '1s' };
  ((config['allowed_headers'] as Json)['patterns'] as Json[]).push({ exact: 'x-tenant' });
  if (options.withRequestBodyBytes) config['with_request_body'] = { max_request_bytes: options.withRequestBodyBytes };
  return filter;
}

export function routerFilter(): Json {
  return { name: 'envoy.filters.http.router', typed_config: { '@type': `${TYPE}.filters.http.router.v3.Router` } };
}

export interface DownstreamTls {
  readonly certificateChain: string;
  readonly privateKey: string;
  /** Client certificates required and checked by Envoy's SPIFFE validator against these bundles (PEM files). */
  readonly spiffeTrustDomains?: readonly { name: string; bundle: string }[];
}

export function downstreamTls(tls: DownstreamTls): Json {
  const validation = tls.spiffeTrustDomains
    ? {
        validation_context: {
          custom_validator_config: {
            name: 'envoy.tls.cert_validator.spiffe',
            typed_config: {
              '@type': `${TYPE}.transport_sockets.tls.v3.SPIFFECertValidatorConfig`,
              trust_domains: tls.spiffeTrustDomains.map((td) => ({ name: td.name, trust_bundle: { filename: td.bundle } })),
            },
          },
        },
      }
    : {};
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': `${TYPE}.transport_sockets.tls.v3.DownstreamTlsContext`,
      require_client_certificate: tls.spiffeTrustDomains !== undefined,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
        alpn_protocols: ['h2', 'http/1.1'],
        tls_certificates: [{ certificate_chain: { filename: tls.certificateChain }, private_key: { filename: tls.privateKey } }],
        ...validation,
      },
    },
  };
}

export interface ListenerSpec {
  readonly name: string;
  readonly routes: readonly RouteSpec[];
  /** HTTP filters before the router (default: ext_authz alone). */
  readonly filters?: readonly Json[];
  readonly tls?: DownstreamTls;
  /** Envoy replaces any client's x-forwarded-client-cert (with the verified caller's, over mTLS); on by default with client SVIDs. */
  readonly sanitizeClientCert?: boolean;
}

/** An HTTP listener with the shipped configs' path hardening and header hygiene. */
export function httpListener(spec: ListenerSpec): Json {
  const hcm = {
    '@type': `${TYPE}.filters.network.http_connection_manager.v3.HttpConnectionManager`,
    stat_prefix: spec.name,
    codec_type: 'AUTO',
    use_remote_address: true,
    normalize_path: true,
    merge_slashes: true,
    path_with_escaped_slashes_action: 'REJECT_REQUEST',
    common_http_protocol_options: { headers_with_underscores_action: 'REJECT_REQUEST' },
    ...(spec.sanitizeClientCert ?? spec.tls?.spiffeTrustDomains ? { forward_client_cert_details: 'SANITIZE_SET', set_current_client_cert_details: { uri: true } } : {}),
    access_log: [accessLog()],
    route_config: {
      name: spec.name,
      virtual_hosts: [{ name: 'app', domains: ['*'], routes: spec.routes.map(route) }],
    },
    http_filters: [...(spec.filters ?? [extAuthzFilter()]), routerFilter()],
  };
  return {
    name: spec.name,
    address: loopback(0),
    filter_chains: [{
      ...(spec.tls ? { transport_socket: downstreamTls(spec.tls) } : {}),
      filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }],
    }],
  };
}

/** The workload: our echo upstream, HTTP/1.1. */
export function appCluster(port: number, name = 'app'): Json {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: loopback(port) } }] }] },
  };
}

/**
 * meshwarden as the shipped configs reach it: HTTP/2, gRPC-health-checked on the Authorization
 * service (so Envoy is ready only once meshwarden says SERVING). `grpc` is what meshwarden
 * logged, `HOST:PORT` or `unix:/path`; several are replicas, balanced as the shipped configs do.
 */
export function meshwardenCluster(grpc: string | readonly string[], options: { healthCheckInterval?: string; maxConnectionDuration?: string } = {}): Json {
  const replicas = typeof grpc === 'string' ? [grpc] : grpc;
  return {
    name: 'meshwarden',
    type: 'STATIC',
    connect_timeout: '0.25s',
    lb_policy: 'LEAST_REQUEST',
    circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_requests: 10000, max_pending_requests: 10000, max_retries: 10000 }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': `${TYPE}.upstreams.http.v3.HttpProtocolOptions`,
        explicit_http_config: { http2_protocol_options: {} },
        ...(options.maxConnectionDuration ? { common_http_protocol_options: { max_connection_duration: options.maxConnectionDuration } } : {}),
      },
    },
    health_checks: healthChecks(options.healthCheckInterval, { grpc_health_check: { service_name: 'envoy.service.auth.v3.Authorization' } }),
    load_assignment: {
      cluster_name: 'meshwarden',
      endpoints: [{ lb_endpoints: replicas.map((address) => ({ endpoint: { address: endpointAddress(address) } })) }],
    },
  };
}

/**
 * meshwarden's HTTP ext_authz listener as envoy/sidecar-http.yaml reaches it: HTTP/1.1, its
 * connections retired by Envoy before meshwarden's idle timeout could race a request, and
 * health-checked on GET /healthz (outside the path prefix), so a replica that is not ready or
 * drains gets no Checks.
 */
export function meshwardenHttpCluster(http: string, options: { healthCheckInterval?: string } = {}): Json {
  return {
    name: 'meshwarden_http',
    type: 'STATIC',
    connect_timeout: '0.25s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': `${TYPE}.upstreams.http.v3.HttpProtocolOptions`,
        explicit_http_config: { http_protocol_options: {} },
        common_http_protocol_options: { idle_timeout: '60s' },
      },
    },
    health_checks: healthChecks(options.healthCheckInterval, { http_health_check: { path: '/healthz' } }),
    load_assignment: { cluster_name: 'meshwarden_http', endpoints: [{ lb_endpoints: [{ endpoint: { address: endpointAddress(http) } }] }] },
  };
}

function healthChecks(interval = '5s', check: Json): Json[] {
  // no_traffic_interval: without it, a check made before any Check was sent schedules the next one 60 s later
  return [{ timeout: '1s', interval, no_traffic_interval: interval, unhealthy_threshold: 2, healthy_threshold: 1, ...check }];
}

function endpointAddress(grpc: string): Json {
  if (grpc.startsWith('unix:')) return { pipe: { path: grpc.slice('unix:'.length) } };
  const match = /^\[?([^\]]+)\]?:(\d+)$/.exec(grpc);
  if (!match) throw new Error(`not a meshwarden address: ${grpc}`);
  return { socket_address: { address: match[1], port_value: Number(match[2]) } };
}
