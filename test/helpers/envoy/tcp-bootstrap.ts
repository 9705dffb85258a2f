/**
 * Bootstrap pieces for a TCP listener in the shape of envoy/tcp-redis.yaml, pointed at loopback:
 * TLS with client SVIDs required, Envoy's network ext_authz filter calling meshwarden (peer
 * certificate and SNI included), tcp_proxy to the workload, and an access log that reads
 * meshwarden's dynamic metadata from the network filter.
 */
import { downstreamTls, type DownstreamTls } from './bootstrap.js';
import { ACCESS_LOG, loopback } from './envoy-process.js';

type Json = Record<string, unknown>;

const TYPE = 'type.googleapis.com/envoy.extensions';
export const NETWORK_EXT_AUTHZ = 'envoy.filters.network.ext_authz';

const authz = (key: string) => `%DYNAMIC_METADATA(${NETWORK_EXT_AUTHZ}:${key})%`;

/** What Envoy's access log says of each connection when it closes. */
export const TCP_ACCESS_LOG_FORMAT = {
  upstream: '%UPSTREAM_HOST%',
  bytes_received: '%BYTES_RECEIVED%',
  flags: '%RESPONSE_FLAGS%',
  decision: authz('decision'),
  reason: authz('reason'),
  policy: authz('policy'),
  decision_id: authz('decision_id'),
} as const;

/** As in envoy/tcp-redis.yaml: V3, fail closed, the caller's certificate and SNI sent. */
export function networkExtAuthzFilter(): Json {
  return {
    name: NETWORK_EXT_AUTHZ,
    typed_config: {
      '@type': `${TYPE}.filters.network.ext_authz.v3.ExtAuthz`,
      stat_prefix: 'meshwarden',
      transport_api_version: 'V3',
      grpc_service: { envoy_grpc: { cluster_name: 'meshwarden' }, timeout: '1s', retry_policy: { retry_on: 'refused-stream', num_retries: 5 } },
      failure_mode_allow: false,
      include_peer_certificate: true,
      include_tls_session: true,
    },
  };
}

export interface TcpListenerSpec {
  readonly name: string;
  /** The cluster tcp_proxy forwards an allowed connection to. */
  readonly cluster: string;
  readonly tls: DownstreamTls;
}

/** mTLS, ext_authz on the first bytes of each connection, then tcp_proxy; SNI read by the TLS inspector. */
export function tcpListener(spec: TcpListenerSpec): Json {
  return {
    name: spec.name,
    address: loopback(0),
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': `${TYPE}.filters.listener.tls_inspector.v3.TlsInspector` } }],
    access_log: [{
      name: 'envoy.access_loggers.file',
      typed_config: { '@type': `${TYPE}.access_loggers.file.v3.FileAccessLog`, path: ACCESS_LOG, log_format: { json_format: TCP_ACCESS_LOG_FORMAT } },
    }],
    filter_chains: [{
      transport_socket: downstreamTls(spec.tls),
      filters: [
        networkExtAuthzFilter(),
        { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': `${TYPE}.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: spec.name, cluster: spec.cluster } },
      ],
    }],
  };
}
