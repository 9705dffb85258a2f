/**
 * Envoy bootstraps for the through-Envoy scenarios (one Envoy process per scenario, so that
 * /proc CPU time is that scenario's), and the opa-envoy-plugin config. Every listener is
 * plaintext HTTP on 127.0.0.1 (h2 or HTTP/1.1, codec AUTO); routes answer with
 * `direct_response`, so no upstream process shares the CPU.
 */
import { hostOf } from './translate.js';

type Json = Record<string, unknown>;

export type EnvoyVariant =
  | { readonly kind: 'direct' }
  | { readonly kind: 'rbac'; readonly filters: Json[] }
  | { readonly kind: 'ext-authz'; readonly port: number };

export interface EnvoyConfigSpec {
  readonly listenPort: number;
  readonly adminPort: number;
  /** Destination services, each with a virtual host (its `:authority`) that sets context_extensions.service. */
  readonly services: readonly string[];
  readonly variant: EnvoyVariant;
}

const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
const EXT_AUTHZ = 'envoy.filters.http.ext_authz';

function route(service: string | undefined): Json {
  return {
    match: { prefix: '/' },
    direct_response: { status: 200, body: { inline_string: 'ok\n' } },
    ...(service
      ? {
          typed_per_filter_config: {
            [EXT_AUTHZ]: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute',
              check_settings: { context_extensions: { service } },
            },
          },
        }
      : {}),
  };
}

export function envoyBootstrap(spec: EnvoyConfigSpec): Json {
  const address = (port: number) => ({ socket_address: { address: '127.0.0.1', port_value: port } });
  const v = spec.variant;
  const authz: Json[] =
    v.kind === 'rbac'
      ? v.filters
      : v.kind === 'ext-authz'
        ? [{
            name: EXT_AUTHZ,
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
              transport_api_version: 'V3',
              grpc_service: { envoy_grpc: { cluster_name: 'authz' }, timeout: '2s' },
              failure_mode_allow: false,
            },
          }]
        : [];
  const clusters =
    v.kind === 'ext-authz'
      ? [{
          name: 'authz',
          type: 'STATIC',
          connect_timeout: '1s',
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          load_assignment: { cluster_name: 'authz', endpoints: [{ lb_endpoints: [{ endpoint: { address: address(v.port) } }] }] },
        }]
      : [];
  return {
    admin: { address: address(spec.adminPort) },
    static_resources: {
      listeners: [{
        name: 'ingress',
        address: address(spec.listenPort),
        filter_chains: [{
          filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'ingress',
              codec_type: 'AUTO',
              // The caller's identity travels in XFCC on a plaintext listener: forward it untouched, mTLS or not.
              forward_client_cert_details: 'ALWAYS_FORWARD_ONLY',
              route_config: {
                name: 'local',
                virtual_hosts: [
                  ...spec.services.map((service) => ({ name: service, domains: [hostOf(service), `${hostOf(service)}:*`], routes: [route(service)] })),
                  { name: 'other', domains: ['*'], routes: [route(undefined)] },
                ],
              },
              http_filters: [...authz, ROUTER],
            },
          }],
        }],
      }],
      clusters,
    },
  };
}

export function opaConfig(grpcPort: number, decision: string): Json {
  return {
    plugins: { envoy_ext_authz_grpc: { addr: `127.0.0.1:${grpcPort}`, path: decision, 'dry-run': false, 'enable-reflection': false } },
    decision_logs: { console: false },
  };
}
