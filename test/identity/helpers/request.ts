/** Builds AccessRequests for identity tests: only what identity/ reads matters. */
import type { AccessRequest, Peer } from '../../../src/domain/access-request.js';

export interface RequestSpec {
  readonly principal?: string;
  readonly certificate?: string;
  readonly headers?: Record<string, string>;
  readonly filterMetadata?: Record<string, unknown>;
}

export function accessRequest(spec: RequestSpec = {}): AccessRequest {
  const source: Peer = {
    address: '10.0.0.1',
    ...(spec.principal === undefined ? {} : { principal: spec.principal }),
    ...(spec.certificate === undefined ? {} : { certificate: spec.certificate }),
  };
  return {
    kind: 'http',
    requestId: 'req-1',
    method: 'GET',
    path: '/',
    rawPath: '/',
    query: '',
    host: 'svc',
    scheme: 'https',
    protocol: 'HTTP/1.1',
    headers: new Map(Object.entries(spec.headers ?? {})),
    source,
    destination: {},
    contextExtensions: new Map(),
    sni: '',
    filterMetadata: spec.filterMetadata ?? {},
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
