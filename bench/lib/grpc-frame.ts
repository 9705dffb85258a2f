/**
 * CheckRequest bodies as Envoy sends them: encoded with Envoy's official protos (the same
 * reference the conformance tests use), wrapped in the 5-byte gRPC message prefix.
 */
import { grpcFrame } from '../../test/helpers/grpc-frame.js';
import { decodeOfficial, encodeOfficial } from '../../test/helpers/official-protos.js';

export { grpcFrame };

export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

export interface CheckMessageOptions {
  readonly principal?: string;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly service?: string;
}

/** The CheckRequest of one HTTP request, in protobufjs JSON form (Envoy's field names). */
export function checkMessage(o: CheckMessageOptions): Record<string, unknown> {
  const headers = { ':method': o.method, ':path': o.path, ':authority': o.host, ...(o.headers ?? {}) };
  return {
    attributes: {
      source: {
        address: { socketAddress: { address: '10.1.2.3', portValue: 41000 } },
        ...(o.principal ? { principal: o.principal } : {}),
      },
      destination: { address: { socketAddress: { address: '10.9.9.9', portValue: 8080 } } },
      request: { http: { id: 'bench', method: o.method, path: o.path, host: o.host, scheme: 'https', protocol: 'HTTP/2', headers } },
      ...(o.service ? { contextExtensions: { service: o.service } } : {}),
    },
  };
}


/** One TCP connection as Envoy's network ext_authz filter describes it (no request.http). */
export interface ConnectionMessageOptions {
  readonly principal: string;
  /** Named by the destination's SPIFFE ID (`…/sa/SERVICE`): the filter sends no context_extensions. */
  readonly service: string;
}

/** The CheckRequest of one TCP connection: peers with their principals, the SNI. */
export function connectionMessage(o: ConnectionMessageOptions): Record<string, unknown> {
  return {
    attributes: {
      source: { address: { socketAddress: { address: '10.1.2.3', portValue: 41000 } }, principal: o.principal },
      destination: { address: { socketAddress: { address: '10.9.9.9', portValue: 6379 } }, principal: `spiffe://prod.example/ns/prod/sa/${o.service}` },
      tlsSession: { sni: `${o.service}.prod.svc` },
    },
  };
}

export function connectionRequestFrame(o: ConnectionMessageOptions): Buffer {
  return grpcFrame(encodeOfficial('envoy.service.auth.v3.CheckRequest', connectionMessage(o)));
}

export function checkRequestFrame(o: CheckMessageOptions): Buffer {
  return grpcFrame(encodeOfficial('envoy.service.auth.v3.CheckRequest', checkMessage(o)));
}

/** `status.code` of a CheckResponse frame (0 = OK/allow, 7 = denied, 16 = unauthenticated). */
export function checkResponseCode(frame: Buffer): number {
  if (frame.length < 5) throw new Error(`short gRPC frame (${frame.length} bytes)`);
  const decoded = decodeOfficial('envoy.service.auth.v3.CheckResponse', frame.subarray(5, 5 + frame.readUInt32BE(1)));
  return (decoded['status'] as { code?: number } | undefined)?.code ?? 0;
}
